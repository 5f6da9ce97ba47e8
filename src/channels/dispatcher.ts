import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { FastifyBaseLogger } from 'fastify';
import type { Channel, OutboundMessage } from '../core/conversation/types.js';
import type { Metrics } from '../metrics.js';
import { OUTBOX_PRIORITY, type ClaimedItem, type Outcome, type Rate, type Store } from '../store/index.js';
import { ChannelError, type ChannelAdapter, type ChannelLimits } from './channel.js';

/** How often and how long the dispatcher does things; tests shorten them. */
export interface DispatcherTiming {
  /** How often the outbox is read for rows other instances queued, retries that are due, lapsed claims and expiry. */
  readonly pollMs: number;
  /** How long a claim holds; renewed every poll while the row is being sent, so only a dead instance's claims lapse. */
  readonly leaseMs: number;
  /** A send not answered by then is taken as a network failure (and may have arrived: it is retried). */
  readonly sendTimeoutMs: number;
  /** The first retry's pause after a network failure, doubling per attempt up to `retryMaxMs`, each with jitter. */
  readonly retryFirstMs: number;
  readonly retryMaxMs: number;
}

const DEFAULT_TIMING: DispatcherTiming = { pollMs: 1_000, leaseMs: 15_000, sendTimeoutMs: 30_000, retryFirstMs: 1_000, retryMaxMs: 60_000 };

/** Most rows one claim takes: a claim is one statement, and rows claimed wait in this instance. */
const MAX_CLAIM = 256;

/** What the dispatcher works with. */
export interface DispatcherOptions {
  readonly store: Store;
  readonly limits: Partial<Record<Channel, ChannelLimits>>;
  readonly metrics: Metrics;
  readonly log: FastifyBaseLogger;
  /** Sends of one row before it is failed (OUTBOX_MAX_ATTEMPTS). */
  readonly maxAttempts: number;
  readonly timing?: Partial<DispatcherTiming>;
  readonly now?: () => Date;
}

/** One channel's state in this instance. */
interface Lane {
  readonly channel: Channel;
  readonly limits: ChannelLimits;
  /** Rows claimed and not yet settled. */
  active: number;
  running: boolean;
  /** Asked to run again while running. */
  again: boolean;
  scheduled: boolean;
  /** No claims before this (epoch ms): a pause (429) or an account budget spent for its window. */
  heldUntil: number;
  /** No sends before this (epoch ms): the network asked to slow down (429). */
  pausedUntil: number;
  /** When the next send may start (performance.now()): sends are spread over the tightest account window. */
  nextSlot: number;
  /** The even gap between sends (ms): the tightest account budget's window over its limit, with a margin. */
  readonly gap: number;
  /**
   * The account budget kept by a pace shared by every instance (sends `gap` apart) instead of
   * fixed windows: the tightest one, on a lane without jitter. Null: every budget in windows.
   */
  readonly paced: Rate | null;
  /** The broadcast rows of this instance take their send times one after another (see `paceFor`). */
  pacing: Promise<unknown>;
  /** When the last send started (performance.now(): a monotonic clock, unlike Date). */
  lastStart: number;
  /** A wake-up already set for later, and when. */
  timer: NodeJS.Timeout | null;
  timerAt: number;
  /** Rows this instance has just queued, to claim by id. */
  offered: string[];
  offering: boolean;
  /** The last claim found more than it had room for: claim again as room frees. */
  more: boolean;
}

/** Most ids one claim of offered rows looks up. */
const MAX_OFFER = 64;

/** Rows a lane may hold beyond its room for the replies an intake offers. */
const REPLY_ROOM = 8;

/**
 * How far ahead a reply may take a send time from the pace, in gaps; a broadcast row takes one at
 * most two gaps ahead, so a reply asked for during a broadcast goes out within a few gaps.
 */
const REPLY_AHEAD = 8;

/**
 * The paced gap's margin over the even one: the fake Bot API and Telegram count sends as they
 * arrive, and a send that arrives a little late next to one on time would make 31 in a second.
 * 3% tolerates 30 ms of such jitter at 30 a second and keeps 97% of the limit.
 */
const PACE_MARGIN = 1.03;

/** The store key of an account budget (one per rate: a key has one window). */
function budgetKey(channel: Channel, rate: Rate): string {
  return rate.offsetMs ? `send:${channel}:account:${rate.windowMs}+${rate.offsetMs}` : `send:${channel}:account:${rate.windowMs}`;
}

/**
 * The time the pace runs on: the epoch as this process started plus a monotonic clock, so every
 * instance reads about the same time (as from Date) but a clock set back or stopped (NTP, a test's
 * fake Date) does not stop the sends; the store keeps sends an interval apart whatever the clocks say.
 */
function paceClock(): number {
  return performance.timeOrigin + performance.now();
}

/** The store key of a channel's pace. */
function paceKey(channel: Channel): string {
  return `send:${channel}:pace`;
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * Sends the outbox. Per channel it claims the rows that are due (replies before broadcasts, one per
 * chat at a time, in order, within each chat's pace), takes each from the account budgets shared
 * by all instances, spreads the sends over the budget's window, and records how each ended: sent;
 * waiting again after a network failure (back-off with jitter) or a 429 (the whole channel pauses
 * for retry_after, every instance); failed after too many attempts or a refusal; unreachable on a
 * 403; expired when it could only arrive too late. A budget delays a row to its next window, never
 * drops it.
 *
 * It runs when woken (the gateway wakes it after an intake commits, so a reply goes out at once)
 * and every poll, which picks up what other instances queued, retries that are due and rows whose
 * instance died while sending them (their claim lapses: those are sent again, the one case of a
 * message sent twice).
 */
export class Dispatcher {
  /** This instance in claims: host, process and a random part, so a restarted process is another owner. */
  readonly owner = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  private readonly adapters = new Map<Channel, ChannelAdapter>();
  private readonly lanes = new Map<Channel, Lane>();
  private readonly timing: DispatcherTiming;
  private readonly now: () => Date;
  /** Passes, claims and sends under way: what stop() waits for. */
  private readonly underway = new Set<Promise<void>>();
  /** Resolves when stop() is called, ending waits for send slots. */
  private halted: Promise<void> = new Promise(() => undefined);
  private halt: () => void = () => undefined;
  private poller: NodeJS.Timeout | null = null;
  private polling = false;
  private stopped = true;

  constructor(private readonly opts: DispatcherOptions) {
    this.timing = { ...DEFAULT_TIMING, ...opts.timing };
    this.now = opts.now ?? (() => new Date());
    if (this.timing.pollMs * 2 >= this.timing.leaseMs) throw new RangeError('发送队列的轮询间隔应小于认领时长的一半（认领在每次轮询时续期）');
  }

  /** Sends the channel's rows through `adapter` from now on (once it has started). */
  attach(adapter: ChannelAdapter): void {
    const limits = this.opts.limits[adapter.channel];
    if (!limits) throw new Error(`渠道 ${adapter.channel} 没有发送限额，无法发送`);
    this.adapters.set(adapter.channel, adapter);
    if (!this.lanes.has(adapter.channel)) {
      // The tightest budget sets the even gap. Without jitter it is paced: fixed windows let two
      // instances both send a window's worth at its start, and a late send next to an early one
      // makes 31 in some second. With jitter (WeChat, one instance per account) the windows stay,
      // 1% over the even gap: at exactly the gap, a late round trip now and then puts a 31st into
      // a window of 30, which the budget refuses, and the row is claimed again.
      const tightest = limits.account.reduce((a, r) => (r.windowMs / r.limit > a.windowMs / a.limit ? r : a));
      const paced = limits.jitter ? null : tightest;
      const gap = (tightest.windowMs / tightest.limit) * (paced ? PACE_MARGIN : 1.01);
      this.lanes.set(adapter.channel, {
        channel: adapter.channel, limits, active: 0, running: false, again: false, scheduled: false, heldUntil: 0, pausedUntil: 0, nextSlot: 0, gap, paced, pacing: Promise.resolve(), lastStart: 0, timer: null, timerAt: 0, offered: [], offering: false, more: true,
      });
    }
    this.wake(adapter.channel);
  }

  /** Starts polling. */
  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.halted = new Promise((resolve) => (this.halt = resolve));
    this.poller = setInterval(() => this.track(this.poll()), this.timing.pollMs);
    this.poller.unref();
    this.track(this.poll());
  }

  /**
   * Looks through everything waiting on `channel` at once: after queueing rows with
   * `store.outbox.enqueue` (agent replies, notices), and when a pace or a budget allows more.
   */
  wake(channel: Channel): void {
    const lane = this.lanes.get(channel);
    if (!lane || this.stopped) return;
    if (lane.running) {
      lane.again = true;
      return;
    }
    if (lane.scheduled) return;
    lane.scheduled = true;
    // Intakes committed in the same turn share one claim.
    setImmediate(() => {
      lane.scheduled = false;
      this.track(this.pass(lane));
    });
  }

  /**
   * Claims rows this instance has just queued (`ids`, from an intake), looking each up instead of
   * scanning the channel's queue: under load that scan, once per turn, cost as much as all the
   * commits. Rows that cannot go yet (another of the chat's first, its pace, a spent budget) are
   * left to the claims that timers and polls make.
   */
  offer(channel: Channel, ids: readonly string[]): void {
    const lane = this.lanes.get(channel);
    if (!lane || this.stopped || ids.length === 0) return;
    lane.offered.push(...ids);
    if (lane.offering) return;
    lane.offering = true;
    setImmediate(() => this.track(this.claimOffered(lane)));
  }

  /**
   * Stops claiming and waits until every send under way has been answered and recorded (and every
   * claim under way has been given back). Rows not yet sent stay queued for the next start or
   * another instance.
   */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.poller) clearInterval(this.poller);
    this.poller = null;
    for (const lane of this.lanes.values()) {
      if (lane.timer) clearTimeout(lane.timer);
      lane.timer = null;
    }
    this.halt();
    while (this.underway.size > 0) await Promise.allSettled([...this.underway]);
  }

  /** The periodic round: lapsed claims, expiry, renewal of this instance's claims, then every channel. */
  private async poll(): Promise<void> {
    if (this.polling || this.stopped) return;
    this.polling = true;
    const { store, metrics, log } = this.opts;
    try {
      const now = this.now();
      const busy = [...this.lanes.values()].some((l) => l.active > 0);
      const [recovered, expired] = await Promise.all([
        store.outbox.recover(now),
        store.outbox.expire(now),
        busy ? store.outbox.renew(this.owner, new Date(now.getTime() + this.timing.leaseMs)) : 0,
      ]);
      if (recovered.length > 0) log.warn({ rows: recovered.length }, '发现无人续期的发送认领（实例已停止），重新排队；其中已发出的会再发一次');
      for (const channel of expired) metrics.outboxExpired.inc({ channel });
    } catch (err) {
      log.warn({ err }, '发送队列例行检查失败，下次再试');
    } finally {
      this.polling = false;
    }
    for (const channel of this.adapters.keys()) this.wake(channel as Channel);
  }

  /** The most rows a lane holds at once: at most one window of the tightest budget, at most its concurrency. */
  private room(lane: Lane): number {
    return Math.min(lane.limits.concurrency, MAX_CLAIM, ...lane.limits.account.map((r) => r.limit));
  }

  /** Claims the offered rows while there is room; what is left when there is none waits for the next claim. */
  private async claimOffered(lane: Lane): Promise<void> {
    const adapter = this.adapters.get(lane.channel);
    try {
      while (lane.offered.length > 0 && adapter && !this.stopped) {
        const now = this.now();
        // Offered rows are replies an intake has just queued: room is kept for them beyond a
        // broadcast filling the lane, so a question asked mid-broadcast is not queued behind it.
        const free = this.room(lane) + REPLY_ROOM - lane.active;
        if (now.getTime() < lane.heldUntil || free <= 0) {
          lane.offered = [];
          lane.more = true;
          this.wakeAt(lane, lane.heldUntil);
          break;
        }
        const ids = lane.offered.splice(0, Math.min(free, MAX_OFFER));
        const rows = await this.opts.store.outbox.claim(lane.channel, { owner: this.owner, limit: ids.length, leaseMs: this.timing.leaseMs, pace: lane.limits.chat, ids, now });
        lane.active += rows.length;
        this.admit(lane, adapter, rows);
      }
    } catch (err) {
      lane.offered = [];
      lane.more = true;
      this.opts.log.error({ err, channel: lane.channel }, '认领待发消息失败，稍后再试');
    } finally {
      lane.offering = false;
    }
  }

  /** Claims and starts sending what is due on one channel, as long as there is room. */
  private async pass(lane: Lane): Promise<void> {
    const adapter = this.adapters.get(lane.channel);
    if (!adapter || this.stopped) return;
    lane.running = true;
    const { limits } = lane;
    try {
      for (;;) {
        const now = this.now();
        if (now.getTime() < lane.heldUntil) {
          this.wakeAt(lane, lane.heldUntil);
          break;
        }
        // Claimed rows wait here for their slot: at most one window of the tightest budget, so a
        // reply queued meanwhile is claimed before more of a broadcast. While sends are under way,
        // claims wait until half the room is free, so that one claim takes many rows under load.
        const room = this.room(lane);
        const batch = room - lane.active;
        if (batch <= 0 || (lane.active > 0 && batch < Math.ceil(room / 2))) break;
        const rows = await this.opts.store.outbox.claim(lane.channel, { owner: this.owner, limit: batch, leaseMs: this.timing.leaseMs, pace: limits.chat, now });
        lane.more = rows.length === batch;
        if (rows.length === 0) break;
        lane.active += rows.length;
        this.admit(lane, adapter, rows);
        if (!lane.more || this.stopped) break;
      }
    } catch (err) {
      this.opts.log.error({ err, channel: lane.channel }, '认领待发消息失败，稍后再试');
    } finally {
      lane.running = false;
      if (lane.again) {
        lane.again = false;
        this.wake(lane.channel);
      }
    }
  }

  /**
   * Decides for each claimed row: expired, skipped (a broadcast to an unreachable chat), or given a
   * slot to be sent in, the slots spread evenly over the tightest account window.
   */
  private admit(lane: Lane, adapter: ChannelAdapter, rows: readonly ClaimedItem[]): void {
    const now = this.now();
    if (this.stopped) {
      // Claimed while stopping: back to waiting at once, for another instance or the next start.
      for (const row of rows) this.finish(lane, row, { state: 'pending', notBefore: now, error: null, countsAsAttempt: false });
      return;
    }
    let next = Math.max(performance.now(), lane.nextSlot);
    for (const row of rows) {
      if (row.expiresAt && row.expiresAt <= now) this.finish(lane, row, { state: 'expired', error: '等待超过最长时限，不再发送' });
      else if (row.chatUnreachable && row.priority >= OUTBOX_PRIORITY.broadcast) this.finish(lane, row, { state: 'unreachable', error: '此前已无法发送到该会话，跳过', at: now });
      // A reply goes in the next gap, before the broadcast rows already given slots: sendAt keeps
      // the gap after the last send, and the budgets hold for it like for any other.
      else if (row.priority < OUTBOX_PRIORITY.broadcast) this.track(this.sendAt(lane, adapter, row, 0));
      else {
        this.track(this.sendAt(lane, adapter, row, next - performance.now()));
        next += lane.gap * (lane.limits.jitter ? 0.5 + Math.random() : 1);
      }
    }
    lane.nextSlot = next;
  }

  /**
   * Counts one send against each account budget (and, for a broadcast, each broadcast budget), in
   * the window it happens in, so the budgets hold for every instance together. When one refuses,
   * those that counted it get it back and the row waits for the refusing window's end: an account
   * budget holds the lane until then, a broadcast budget (a WeChat day) moves every waiting
   * broadcast of the channel there at once while replies go on. A budget delays, it never drops.
   * Returns the outcome for a row that must wait, or null to send it.
   */
  private async consume(lane: Lane, row: ClaimedItem): Promise<Outcome | null> {
    const { budget } = this.opts.store;
    const broadcast = row.priority >= OUTBOX_PRIORITY.broadcast ? lane.limits.broadcast : [];
    const rates = [...lane.limits.account.filter((r) => r !== lane.paced), ...broadcast];
    if (rates.length === 0) return null;
    const now = this.now();
    const answers = await Promise.allSettled(rates.map((rate) => budget.tryConsume(budgetKey(lane.channel, rate), rate.windowMs, rate.limit, now, rate.offsetMs)));
    const granted = answers.map((a) => a.status === 'fulfilled' && a.value);
    if (granted.every(Boolean)) return null;
    rates.forEach((rate, j) => {
      if (granted[j]) void budget.release(budgetKey(lane.channel, rate), rate.windowMs, now, rate.offsetMs).catch(() => undefined);
    });
    if (answers.some((a) => a.status === 'rejected')) return this.later(row, new Date(now.getTime() + this.timing.retryFirstMs), '读取发送额度失败', false);
    const windowEnd = (r: Rate): number => {
      const offset = r.offsetMs ?? 0;
      return (Math.floor((now.getTime() + offset) / r.windowMs) + 1) * r.windowMs - offset;
    };
    const refused = rates.filter((_, j) => !granted[j]);
    const until = Math.max(...refused.map(windowEnd));
    const accountUntil = Math.max(0, ...refused.filter((r) => lane.limits.account.includes(r)).map(windowEnd));
    lane.heldUntil = Math.max(lane.heldUntil, accountUntil);
    if (until > accountUntil) {
      const deferred = await this.opts.store.outbox.defer(lane.channel, OUTBOX_PRIORITY.broadcast, new Date(until)).catch(() => 0);
      this.opts.log.warn({ channel: lane.channel, until: new Date(until), deferred }, '今日群发额度已用完，其余通知顺延到下一天发送');
    }
    return this.later(row, new Date(until), null, false);
  }

  /** Sends one row in its slot, `delayMs` from now, within the budgets, and records the outcome. */
  private async sendAt(lane: Lane, adapter: ChannelAdapter, row: ClaimedItem, delayMs: number): Promise<void> {
    // Waits under a millisecond are not worth a timer (budgets lifted for a benchmark).
    if (delayMs >= 1) await this.pause(delayMs);
    // Timers held up by a busy event loop fire together: keep the gap between the sends themselves
    // too, so that a burst never goes out at once (what a crash can send twice is what is under way).
    // A reply on a paced lane takes its time from the pace ahead of the broadcast instead: kept
    // behind the broadcast's own starts here, it waited as long as they kept coming.
    const spacing = lane.paced && row.priority < OUTBOX_PRIORITY.broadcast ? 0 : lane.gap * (lane.limits.jitter ? 0.5 : 1);
    for (let wait = lane.lastStart + spacing - performance.now(); wait >= 1 && !this.stopped; wait = lane.lastStart + spacing - performance.now()) {
      await this.pause(wait);
    }
    if (this.stopped) {
      // Stopping: a row still waiting for its slot goes back to waiting in the store, unsent.
      await this.settle(lane, row, { state: 'pending', notBefore: this.now(), error: null, countsAsAttempt: false });
      return;
    }
    lane.lastStart = performance.now();
    let paced: boolean;
    try {
      paced = await this.paceFor(lane, row);
    } catch {
      await this.settle(lane, row, this.later(row, new Date(this.now().getTime() + this.timing.retryFirstMs), '读取发送额度失败', false));
      return;
    }
    if (!paced) {
      await this.settle(lane, row, { state: 'pending', notBefore: this.now(), error: null, countsAsAttempt: false });
      return;
    }
    // A 429 met since this row was given its slot holds it too: the pause is for the whole channel.
    const held = this.now().getTime() < lane.pausedUntil ? this.later(row, new Date(lane.pausedUntil), null, false) : await this.consume(lane, row);
    if (held) {
      await this.settle(lane, row, held);
      return;
    }
    const { metrics, log } = this.opts;
    const out: OutboundMessage = {
      channel: lane.channel,
      chatId: row.channelChatId,
      text: row.text,
      ...(row.replyTo ? { replyToMessageId: row.replyTo } : {}),
      ...(row.payload?.mention ? { mention: row.payload.mention } : {}),
      ...(row.payload?.buttons ? { buttons: row.payload.buttons } : {}),
    };
    let outcome: Outcome;
    try {
      const channelMessageId = await this.withTimeout(lane.channel, adapter.send(out));
      const at = this.now();
      outcome = { state: 'sent', at, channelMessageId, reachableAgain: row.chatUnreachable };
      metrics.messagesOut.inc({ channel: lane.channel });
      metrics.outboxSent.inc({ channel: lane.channel });
      if (row.kind === 'reply') metrics.replySeconds.observe({ channel: lane.channel }, Math.max(0, at.getTime() - row.createdAt.getTime()) / 1000);
    } catch (err) {
      outcome = this.failure(lane, row, err);
      const failure = err instanceof ChannelError ? err.kind : 'network';
      metrics.sendFailures.inc({ channel: lane.channel, kind: failure });
      const line = { err, channel: lane.channel, outboxId: row.id, kind: failure, attempts: row.attempts, next: outcome.state };
      if (outcome.state === 'pending') log.warn(line, '发送失败，稍后重试');
      else log.error(line, '发送失败，不再重试');
    }
    await this.settle(lane, row, outcome);
    // The chat's next row may be due once its pace allows: look again then.
    if (outcome.state === 'sent') this.wakeAt(lane, this.now().getTime() + Math.min(...Object.values(lane.limits.chat).flat().map((r) => r.windowMs)));
  }

  /**
   * Takes the row's send time from the lane's pace, shared by every instance, and waits for it;
   * false when the dispatcher stops meanwhile. A broadcast row takes one at most two gaps ahead, a
   * reply up to REPLY_AHEAD gaps, so replies get in first. This instance's broadcast rows take
   * theirs one after another, each once the one before is a gap from its time: they do not all ask
   * the store again and again while the pace is taken, and each has a gap's room for the round
   * trip, so a slow one does not lose a send time. The pace runs on {@link paceClock}, not on the
   * injectable `now`.
   */
  private async paceFor(lane: Lane, row: ClaimedItem): Promise<boolean> {
    if (!lane.paced) return !this.stopped;
    const reply = row.priority < OUTBOX_PRIORITY.broadcast;
    const ahead = lane.gap * (reply ? REPLY_AHEAD : 2);
    const take = async (): Promise<number | null> => {
      for (;;) {
        if (this.stopped) return null;
        const at = await this.opts.store.budget.pace(paceKey(lane.channel), lane.gap, paceClock(), ahead);
        if (at !== null) return at;
        await this.pause(lane.gap * (0.5 + Math.random()));
      }
    };
    let at: number | null;
    if (reply) at = await take();
    else {
      const turn = lane.pacing.then(take);
      lane.pacing = turn.then(
        (t) => (t !== null && t - lane.gap - paceClock() >= 1 ? this.pause(t - lane.gap - paceClock()) : undefined),
        () => undefined,
      );
      at = await turn;
    }
    if (at === null) return false;
    if (at - paceClock() >= 1) await this.pause(at - paceClock());
    return !this.stopped;
  }

  /** What to do after a failed send. */
  private failure(lane: Lane, row: ClaimedItem, err: unknown): Outcome {
    const now = this.now();
    const e = err instanceof ChannelError ? err : new ChannelError(lane.channel, 'network', errorText(err));
    switch (e.kind) {
      case 'rate_limited': {
        const until = new Date(now.getTime() + (e.retryAfterMs ?? this.timing.retryFirstMs));
        lane.pausedUntil = Math.max(lane.pausedUntil, until.getTime());
        lane.heldUntil = Math.max(lane.heldUntil, until.getTime());
        void this.opts.store.outbox.pause(lane.channel, until, e.message).catch((pauseErr: unknown) => this.opts.log.warn({ err: pauseErr }, '记录渠道暂停失败'));
        this.opts.log.warn({ channel: lane.channel, until }, '渠道要求放慢发送，暂停到指定时间');
        return this.later(row, until, e.message, false);
      }
      case 'unreachable':
        return { state: 'unreachable', error: e.message, at: now };
      case 'refused':
        return { state: 'failed', error: e.message };
      default: {
        if (row.attempts >= this.opts.maxAttempts) return { state: 'failed', error: `已尝试 ${row.attempts} 次：${e.message}` };
        const backoff = Math.min(this.timing.retryMaxMs, this.timing.retryFirstMs * 2 ** (row.attempts - 1));
        // Equal jitter: half the pause fixed, half random, so instances that failed together do not retry together.
        return this.later(row, new Date(now.getTime() + backoff / 2 + Math.random() * (backoff / 2)), e.message, true);
      }
    }
  }

  /** Waiting again until `notBefore`, or expired when that would be past the row's expiry. */
  private later(row: ClaimedItem, notBefore: Date, error: string | null, countsAsAttempt: boolean): Outcome {
    if (row.expiresAt && notBefore >= row.expiresAt) return { state: 'expired', error: `${error ? `${error}；` : ''}再等下去会超过最长时限，不再发送` };
    return { state: 'pending', notBefore, error, countsAsAttempt };
  }

  /** Records an outcome decided without sending. */
  private finish(lane: Lane, row: ClaimedItem, outcome: Outcome): void {
    this.track(this.settle(lane, row, outcome));
  }

  /** Writes the outcome, counts it, frees the row's room in the lane and looks for more. */
  private async settle(lane: Lane, row: ClaimedItem, outcome: Outcome): Promise<void> {
    const { store, metrics, log } = this.opts;
    try {
      const held = await store.outbox.settle(row, this.owner, outcome);
      if (!held) log.warn({ channel: lane.channel, outboxId: row.id }, '发送认领已被其他实例接手（续期不及时），结果未记录');
    } catch (err) {
      // The claim lapses and the row is sent again: better twice than never.
      log.error({ err, channel: lane.channel, outboxId: row.id }, '记录发送结果失败');
    }
    const channel = lane.channel;
    if (outcome.state === 'pending' && outcome.error !== null) metrics.outboxRetried.inc({ channel });
    else if (outcome.state === 'expired') metrics.outboxExpired.inc({ channel });
    else if (outcome.state === 'failed' || outcome.state === 'unreachable') metrics.outboxFailed.inc({ channel, reason: outcome.state === 'unreachable' ? 'unreachable' : 'refused_or_attempts' });
    lane.active -= 1;
    if (lane.more) this.wake(channel);
  }

  private track(work: Promise<void>): void {
    this.underway.add(work);
    void work.finally(() => this.underway.delete(work));
  }

  /** Waits `ms`, or less if the dispatcher stops meanwhile. */
  private pause(ms: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    return Promise.race([new Promise<void>((resolve) => (timer = setTimeout(resolve, ms))), this.halted]).finally(() => clearTimeout(timer));
  }

  /** Wakes the lane at `at` (epoch ms), keeping only the earliest wake-up asked for. */
  private wakeAt(lane: Lane, at: number): void {
    if (this.stopped || (lane.timer && lane.timerAt <= at)) return;
    if (lane.timer) clearTimeout(lane.timer);
    lane.timerAt = at;
    lane.timer = setTimeout(() => {
      lane.timer = null;
      this.wake(lane.channel);
    }, Math.max(0, at - this.now().getTime()));
    lane.timer.unref();
  }

  private withTimeout<T>(channel: Channel, work: Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new ChannelError(channel, 'network', `发送超过 ${this.timing.sendTimeoutMs / 1000} 秒没有回应`)), this.timing.sendTimeoutMs);
    });
    return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
  }
}
