import type { FastifyBaseLogger } from 'fastify';
import type { Store, SuggestionKey } from '../store/index.js';
import type { SearchIndex, Suggestion } from '../core/search/index.js';
import { decide, quoteReply } from '../core/conversation/dialog.js';
import { FLOOD_WARNING, type OfficeContact } from '../core/conversation/format.js';
import { cleanInbound } from '../core/conversation/inbound.js';
import type { InboundMessage, OutboundMessage } from '../core/conversation/types.js';
import type { Metrics } from '../metrics.js';
import { ChannelError, DEFAULT_BUDGETS, type ChannelAdapter, type InboundHandler, type SendBudget } from './channel.js';

/** Chats and users whose store ids an instance keeps in memory. */
const IDENTITY_CACHE_SIZE = 10_000;

/** How long an offer of suggestions stays open for "reply 1-3". */
const SUGGESTION_TTL_MS = 30 * 60_000;

/** The first rejection among settled results, if any. */
function firstFailure(results: readonly PromiseSettledResult<unknown>[]): PromiseRejectedResult | undefined {
  return results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
}

/**
 * Like Promise.all, but rejects (with the first failure) only once every promise has settled, so
 * that what happened is known before a failure is handled: a message must not be forgotten as
 * unstored while its storing is still under way.
 */
async function settled<T extends readonly unknown[]>(work: T): Promise<{ -readonly [K in keyof T]: Awaited<T[K]> }> {
  const results = await Promise.allSettled(work);
  const failed = firstFailure(results);
  if (failed) throw failed.reason;
  return results.map((r) => (r as PromiseFulfilledResult<unknown>).value) as { -readonly [K in keyof T]: Awaited<T[K]> };
}

/** At most this many questions per user and chat in the window; one polite warning, then silence. */
export interface FloodRule {
  readonly limit: number;
  readonly windowMs: number;
}

/** Six questions a minute is more than anyone types by hand. */
export const DEFAULT_FLOOD_RULE: FloodRule = { limit: 6, windowMs: 60_000 };

/** What the gateway works with. */
export interface GatewayOptions {
  readonly store: Store;
  readonly index: () => SearchIndex;
  readonly office: OfficeContact | null;
  readonly metrics: Metrics;
  readonly log: FastifyBaseLogger;
  readonly flood?: FloodRule;
  readonly budgets?: Partial<Record<ChannelAdapter['channel'], SendBudget>>;
  readonly now?: () => Date;
}

/**
 * The shared rules between channels and the conversation core, applied once for every channel:
 * a message is handled once (retried updates, Wechaty's repeats), users and chats are recorded,
 * the dialog decides, every message in and out is stored with the decision, suggestions offered
 * are remembered in the store, floods get one warning, and replies respect the send budgets.
 */
export class Gateway {
  private readonly inFlight = new Set<Promise<void>>();
  private readonly identities = new Map<string, string>();
  private readonly flood: FloodRule;
  private readonly now: () => Date;

  constructor(private readonly opts: GatewayOptions) {
    this.flood = opts.flood ?? DEFAULT_FLOOD_RULE;
    this.now = opts.now ?? (() => new Date());
  }

  /**
   * The handler to give an adapter's `start`. U+0000 is removed from the message first (see
   * `cleanInbound`). A failure is logged and rejects, so a webhook can answer
   * 5xx and be retried; when it happened before the message was stored, the message's dedupe key is
   * forgotten so the retry is handled rather than dropped as a duplicate.
   */
  handlerFor(adapter: ChannelAdapter): InboundHandler {
    return (received) => {
      const msg = cleanInbound(received);
      const work = this.handle(adapter, msg);
      const tracked = work.catch(() => undefined);
      this.inFlight.add(tracked);
      void tracked.finally(() => this.inFlight.delete(tracked));
      return work.catch((err: unknown) => {
        this.opts.log.error({ err, channel: msg.channel, chatId: msg.chatId, messageId: msg.messageId }, '处理消息失败');
        throw err;
      });
    };
  }

  /** Resolves once every message being handled is done (graceful shutdown). */
  async drain(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  /**
   * Store calls that do not depend on each other run together: the store commits them in one go
   * (SQLite's group commit; PostgreSQL's pool runs them side by side), so a message waits for two
   * rounds of the store before its reply goes out instead of eight.
   */
  private async handle(adapter: ChannelAdapter, msg: InboundMessage): Promise<void> {
    const { store, metrics, log } = this.opts;
    const started = performance.now();
    metrics.messagesIn.inc({ channel: msg.channel });
    const dedupeKey = `${msg.chatId}:${msg.messageId}`;
    const key: SuggestionKey = { channel: msg.channel, chatId: msg.chatId, userId: msg.userId };
    const seen = store.dedupe.firstSeen(msg.channel, dedupeKey, this.now());
    const progress = { stored: false };
    try {
      // Recording who said it and reading their pending offer are harmless for a repeated message.
      const [first, chatId, userId, pendingIds] = await settled([
        seen,
        this.identity(`chat\0${msg.channel}\0${msg.chatId}`, () =>
          store.identities.upsertChat({ channel: msg.channel, channelChatId: msg.chatId, kind: msg.chatKind }, this.now())),
        this.identity(`user\0${msg.channel}\0${msg.userId}\0${msg.userName}`, () =>
          store.identities.upsertUser({ channel: msg.channel, channelUserId: msg.userId, displayName: msg.userName }, this.now())),
        store.suggestions.get(key, this.now()),
      ]);
      if (!first) {
        metrics.dropped.inc({ channel: msg.channel, reason: 'duplicate' });
        log.debug({ channel: msg.channel, messageId: msg.messageId }, '重复消息，已忽略');
        return;
      }
      await this.answer(adapter, msg, { chatId, userId, key, pendingIds }, started, progress);
    } catch (err) {
      if (!progress.stored && (await seen.catch(() => false))) await store.dedupe.forget(msg.channel, dedupeKey).catch(() => undefined);
      throw err;
    }
  }

  /** Handles a message seen for the first time; marks `progress.stored` once the inbound message is stored. */
  private async answer(
    adapter: ChannelAdapter,
    msg: InboundMessage,
    { chatId, userId, key, pendingIds }: { chatId: string; userId: string; key: SuggestionKey; pendingIds: string[] | null },
    started: number,
    progress: { stored: boolean },
  ): Promise<void> {
    const { store, metrics } = this.opts;
    const index = this.opts.index();
    const pending = (pendingIds ?? []).flatMap((id): Suggestion[] => {
      const entry = index.entry(id);
      return entry ? [{ id, title: entry.title, score: 0 }] : [];
    });

    const decision = decide(
      msg,
      { botNames: adapter.botNames(), pendingSuggestions: pending.length > 0 ? pending : null, office: this.opts.office, channelLimit: adapter.maxLength, lookup: (id) => index.answerFor(id, msg.text, this.now()) },
      (q) => index.ask(q, this.now()),
    );
    const answer = decision.kind === 'reply' ? decision.answer : null;
    const record = store.messages
      .record({
        channel: msg.channel, chatId, userId, direction: 'in', channelMessageId: msg.messageId, text: msg.text, at: msg.at,
        decision: answer ? { answered: answer.answered, entryId: answer.id, score: answer.score, reason: answer.reason } : null,
      })
      .then(() => void (progress.stored = true));
    // Chatter leaves an offer as it was (and expiring when it was due).
    if (decision.kind === 'ignore') return record;

    // The flood rule and the first reply's budgets are asked while the message is stored.
    const floodKey = `flood:${msg.channel}:${msg.chatId}:${msg.userId}`;
    const [first] = decision.messages;
    const now = this.now();
    const [stored, flood, budgets] = await Promise.allSettled([
      record,
      store.budget.tryConsume(floodKey, this.flood.windowMs, this.flood.limit, now),
      first ? this.consume(adapter, first, now) : false,
    ]);
    const withinFlood = flood.status === 'fulfilled' && flood.value;
    const firstAllowed = budgets.status === 'fulfilled' && budgets.value;
    const failed = firstFailure([stored, flood, budgets]);
    if (failed) {
      // Nothing goes out: what was counted is given back, so the retry counts afresh.
      await Promise.allSettled([
        withinFlood ? store.budget.release(floodKey, this.flood.windowMs, now) : null,
        first && firstAllowed ? this.giveBack(adapter, first, now) : null,
      ]);
      throw failed.reason;
    }
    if (!withinFlood) {
      if (first && firstAllowed) await this.giveBack(adapter, first, now);
      metrics.dropped.inc({ channel: msg.channel, reason: 'flood' });
      if (await store.budget.tryConsume(`${floodKey}:warned`, this.flood.windowMs, 1, this.now())) {
        await this.send(adapter, chatId, quoteReply(msg, FLOOD_WARNING, adapter.maxLength));
      }
      return;
    }

    // A dropped message leaves the offer as it was; a reply replaces or clears it.
    const offered = decision.offer?.map((s) => s.id) ?? null;
    const remember =
      offered && offered.join('\n') !== pendingIds?.join('\n') ? store.suggestions.put(key, offered, SUGGESTION_TTL_MS, this.now())
      : !offered && pendingIds ? store.suggestions.take(key, this.now())
      : null;
    if (answer) metrics.decisions.inc({ channel: msg.channel, reason: answer.reason });
    await settled([remember, this.send(adapter, chatId, decision.messages, firstAllowed)]);
    metrics.replySeconds.observe({ channel: msg.channel }, (performance.now() - started) / 1000);
  }

  /**
   * The store id of a chat or user, upserted the first time this instance meets it. Ids never change
   * once made (upserts return the existing one), so caching them is safe with several instances; the
   * user key holds the display name, so a renamed user is written again. Bounded: oldest out first.
   */
  private async identity(key: string, upsert: () => Promise<string>): Promise<string> {
    const known = this.identities.get(key);
    if (known) return known;
    const id = await upsert();
    if (this.identities.size >= IDENTITY_CACHE_SIZE) this.identities.delete(this.identities.keys().next().value as string);
    this.identities.set(key, id);
    return id;
  }

  private budgetKeys(adapter: ChannelAdapter, out: OutboundMessage): { key: string; limit: number; windowMs: number }[] {
    const budget = this.opts.budgets?.[adapter.channel] ?? DEFAULT_BUDGETS[adapter.channel];
    return [
      { key: `send:${out.channel}:chat:${out.chatId}`, ...budget.perChat },
      { key: `send:${out.channel}:account`, ...budget.perAccount },
    ];
  }

  /**
   * Counts one outbound message against the chat's and the account's budgets, asked together; when
   * only one of them allows it (or the other fails), that one gets it back, so a chat past its budget
   * does not use up what the account has for the others.
   */
  private async consume(adapter: ChannelAdapter, out: OutboundMessage, now: Date): Promise<boolean> {
    const { budget } = this.opts.store;
    const keys = this.budgetKeys(adapter, out);
    const results = await Promise.allSettled(keys.map((b) => budget.tryConsume(b.key, b.windowMs, b.limit, now)));
    const counted = results.map((r) => r.status === 'fulfilled' && r.value);
    if (counted.every(Boolean)) return true;
    await settled(keys.flatMap((b, i) => (counted[i] ? [budget.release(b.key, b.windowMs, now)] : [])));
    const failed = firstFailure(results);
    if (failed) throw failed.reason;
    return false;
  }

  /** Gives back what {@link consume} counted at `now` for a message that is not sent after all. */
  private async giveBack(adapter: ChannelAdapter, out: OutboundMessage, now: Date): Promise<void> {
    await settled(this.budgetKeys(adapter, out).map((b) => this.opts.store.budget.release(b.key, b.windowMs, now)));
  }

  /**
   * Sends within the chat's and the account's budgets, storing each message that went out.
   * `firstAllowed`: the first message's budgets were already asked, with this answer.
   */
  private async send(adapter: ChannelAdapter, chatId: string, messages: readonly OutboundMessage[], firstAllowed?: boolean): Promise<void> {
    const { store, metrics, log } = this.opts;
    for (const [i, out] of messages.entries()) {
      const allowed = i === 0 && firstAllowed !== undefined ? firstAllowed : await this.consume(adapter, out, this.now());
      if (!allowed) {
        metrics.dropped.inc({ channel: out.channel, reason: 'budget' });
        log.warn({ channel: out.channel, chatId: out.chatId }, '超出发送额度，本条回复未发出');
        return;
      }
      try {
        await adapter.send(out);
      } catch (err) {
        const kind = err instanceof ChannelError ? err.kind : 'network';
        metrics.sendFailures.inc({ channel: out.channel, kind });
        log.error({ err, channel: out.channel, chatId: out.chatId, kind }, '回复发送失败');
        return;
      }
      metrics.messagesOut.inc({ channel: out.channel });
      await store.messages.record({ channel: out.channel, chatId, userId: null, direction: 'out', text: out.text, at: this.now() });
    }
  }
}
