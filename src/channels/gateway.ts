import type { FastifyBaseLogger } from 'fastify';
import { NUMBER_PLACEHOLDER, OUTBOX_PRIORITY, isOpenConflict, type Intake, type NewOutboxItem, type RequesterContext, type Store, type SuggestionKey } from '../store/index.js';
import type { SearchIndex, Suggestion } from '../core/search/index.js';
import { address } from '../core/conversation/addressing.js';
import { decide, quoteReply, type Decision } from '../core/conversation/dialog.js';
import { ackReply, beijingTime, decideAck, readAck, readButtonNotice, type ReadAck } from '../core/notices/delivery.js';
import { BIND_HELP, bindReply, choiceReply, readChatCommand, topicsReply, unknownTopicReply, type ChatCommand } from '../core/notices/commands.js';
import { ALL_TOPICS } from '../core/notices/topics.js';
import { knowledgeTopics } from '../notices/plan.js';
import { FLOOD_WARNING, type OfficeContact } from '../core/conversation/format.js';
import { cleanInbound } from '../core/conversation/inbound.js';
import { PICKED } from '../core/report/figures.js';
import type { Channel, InboundMessage, OutboundMessage } from '../core/conversation/types.js';
import type { Metrics } from '../metrics.js';
import { newId } from '../store/ids.js';
import type { ButtonPress, ChannelAdapter, InboundHandler, PressAnswer } from './channel.js';
import { OFFER, deadlines, formatOpened, formatRated, formatReopened, formatSame, formatStatus, ticketStep, type TicketStep } from '../core/tickets/flow.js';
import type { TicketSettings } from '../knowledge/tickets.js';

/** How a relayed message without text reads on the ticket. */
const MEDIA_LABELS: Readonly<Record<string, string>> = { image: '图片', video: '视频', audio: '音频', voice: '语音', file: '文件', sticker: '表情', location: '位置', contact: '名片', link: '链接' };

/** Chats and users whose store ids an instance keeps in memory. */
const IDENTITY_CACHE_SIZE = 10_000;

/** How long an offer of suggestions stays open for "reply 1-3". */
export const SUGGESTION_TTL_MS = 30 * 60_000;

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
  /** How long a reply may wait to be sent before it is expired instead (OUTBOX_MAX_AGE). */
  readonly maxAgeMs: number;
  /** Told the outbox rows an intake has queued on a channel, once committed (the dispatcher's offer). */
  readonly queued?: (channel: Channel, ids: readonly string[]) => void;
  readonly flood?: FloodRule;
  readonly now?: () => Date;
  /** The working-day calendar and ticket rules, from the knowledge loaded. */
  readonly tickets: () => Pick<TicketSettings, 'calendar' | 'rules'>;
}

/** How many of a user's tickets 查询工单 lists. */
const STATUS_TICKETS = 3;

/**
 * The shared rules between channels and the conversation core, applied once for every channel:
 * users and chats are recorded, the dialog decides, floods get one warning, and the message, its
 * decision, its replies (queued in the outbox) and the suggestions offered are stored as one unit,
 * which also drops a message handled before (retried updates, Wechaty's repeats). Sending is the
 * dispatcher's: the handler resolves once the unit has committed, so a channel that acknowledges
 * then has nothing left to lose.
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
   * `cleanInbound`). A failure is logged and rejects, so a webhook can answer 5xx and be retried:
   * nothing of the message was stored, so the retry is handled afresh.
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
   * Three rounds of the store at most, usually two: who and what was offered (with the flood count
   * of a message that is certainly addressed), then the intake unit. Store calls of one round run
   * together, so the store commits them in one go with other messages' calls.
   */
  private async handle(adapter: ChannelAdapter, msg: InboundMessage): Promise<void> {
    const { store, metrics, log } = this.opts;
    const received = this.now();
    metrics.messagesIn.inc({ channel: msg.channel });
    const key: SuggestionKey = { channel: msg.channel, chatId: msg.chatId, userId: msg.userId };
    const botNames = adapter.botNames();
    const floodKey = `flood:${msg.channel}:${msg.chatId}:${msg.userId}`;
    // Counted now when the message is addressed whatever was offered; a bare pick is known only later.
    const addressing = address(msg, botNames);
    const addressed = addressing !== null;
    // A notice in a group asks for a plain 已读, which WeChat does not show as a reply to the bot: in a
    // group a whole message 已读 counts unaddressed (answered only while the group has a notice open).
    const ack = addressing ? readAck(addressing.question) : msg.chatKind === 'group' ? readAck(msg.text) : null;
    const command = addressing && !ack ? readChatCommand(addressing.question) : null;
    const [chatId, userId, pendingIds, early, requester] = await settled([
      this.identity(`chat\0${msg.channel}\0${msg.chatId}`, () =>
        store.identities.upsertChat({ channel: msg.channel, channelChatId: msg.chatId, kind: msg.chatKind }, received)),
      this.identity(`user\0${msg.channel}\0${msg.userId}\0${msg.userName}`, () =>
        store.identities.upsertUser({ channel: msg.channel, channelUserId: msg.userId, displayName: msg.userName }, received)),
      store.suggestions.get(key, received),
      addressed ? store.budget.tryConsume(floodKey, this.flood.windowMs, this.flood.limit, received) : null,
      // Tickets are decided before the FAQ, for messages to the bot only: in a group, chatter is never relayed.
      addressed ? store.tickets.context(msg.channel, msg.chatId, msg.userId, received) : null,
    ]);
    // The flood count taken after deciding, for a bare pick.
    let late: boolean | null = null;
    const giveBack = (): Promise<void> =>
      early !== null || late !== null ? store.budget.release(floodKey, this.flood.windowMs, received).catch(() => undefined) : Promise.resolve();
    try {
      const step = addressing && requester && !ack && !command ? ticketStep(addressing.question, requester, received, this.opts.tickets().rules) : null;
      if (step && requester) {
        await this.ticketTurn(adapter, msg, step, requester, { chatId, userId, text: addressing?.question ?? msg.text }, received);
        return;
      }
      const index = this.opts.index();
      const pending = (pendingIds ?? []).flatMap((id): Suggestion[] => {
        const entry = index.entry(id);
        return entry ? [{ id, title: entry.title, score: 0 }] : [];
      });
      const noticeReply = ack ? await this.receipt(msg, ack, addressed, received) : command ? await this.chatCommand(msg, command, received) : null;
      const decision: Decision = noticeReply !== null
        ? { kind: 'reply', topic: ack ? 'receipt' : 'subscription', question: addressing?.question ?? msg.text, messages: quoteReply(msg, noticeReply, adapter.maxLength), answer: null, offer: null }
        : decide(
          msg,
          { botNames, pendingSuggestions: pending.length > 0 ? pending : null, office: this.opts.office, channelLimit: adapter.maxLength, lookup: (id) => index.answerFor(id, msg.text, received) },
          (q) => index.ask(q, received),
        );
      const answer = decision.kind === 'reply' ? decision.answer : null;
      const inbound = {
        channel: msg.channel, chatId, userId, direction: 'in' as const, channelMessageId: msg.messageId, text: msg.text, at: msg.at,
        // A pick is recorded as such: the report counts it as an offer taken, not as a new question.
        decision: answer ? { answered: answer.answered, entryId: answer.id, score: answer.score, reason: decision.kind === 'reply' && decision.topic === 'pick' ? PICKED : answer.reason, questionKey: index.questionKey(answer.q) } : null,
      };
      if (decision.kind === 'ignore') {
        // Chatter is stored and leaves an offer as it was (and expiring when it was due).
        if ((await store.intake.commit({ inbound, outbound: [] })).duplicate) this.duplicate(msg);
        return;
      }

      let within = early;
      if (within === null) within = late = await store.budget.tryConsume(floodKey, this.flood.windowMs, this.flood.limit, received);
      // Over the flood rule: one polite warning, then silence; the offer stays as it was.
      const warn = !within && (await store.budget.tryConsume(`${floodKey}:warned`, this.flood.windowMs, 1, received));
      // The second unanswered question in a row: the bot offers a person (a 是 then opens a ticket).
      const declined = decision.topic === 'no_match' || decision.topic === 'suggest';
      const offer = declined && (requester?.declines ?? 0) >= 1 ? quoteReply(msg, OFFER, adapter.maxLength) : [];
      const messages = within ? [...decision.messages, ...offer] : warn ? quoteReply(msg, FLOOD_WARNING, adapter.maxLength) : [];
      const offered = decision.offer?.map((s) => s.id) ?? null;
      const changesOffer = within && (offered ? offered.join('\n') !== pendingIds?.join('\n') : pendingIds !== null);
      const result = await store.intake.commit({
        inbound,
        outbound: messages.map((out) => this.queueItem(chatId, out, within ? 'reply' : 'warning', received)),
        ...(changesOffer ? { offer: { key, ids: offered, ttlMs: SUGGESTION_TTL_MS, now: received } } : {}),
      });
      if (result.duplicate) {
        await giveBack();
        this.duplicate(msg);
        return;
      }
      if (!within) metrics.dropped.inc({ channel: msg.channel, reason: 'flood' });
      else if (answer) metrics.decisions.inc({ channel: msg.channel, reason: answer.reason });
      this.opts.queued?.(msg.channel, result.outboxIds);
    } catch (err) {
      // Nothing was stored: what was counted is given back, so the retry counts afresh.
      await giveBack();
      throw err;
    }
    log.debug({ channel: msg.channel, messageId: msg.messageId }, '消息已存储');
  }

  /**
   * A message that does something to a ticket, stored as one unit with what it does: opened (with
   * its number, counter and transcript), relayed to the open ticket in silence, rated, reopened, or
   * answered with the user's tickets. A ticket opened meanwhile by another instance for the same
   * user fails the unit, and the message is handled again: it then finds that ticket.
   */
  private async ticketTurn(adapter: ChannelAdapter, msg: InboundMessage, step: NonNullable<TicketStep>, requester: RequesterContext, ids: { chatId: string; userId: string; text: string }, received: Date): Promise<void> {
    const { store } = this.opts;
    const { rules, calendar } = this.opts.tickets();
    const latest = requester.latest;
    const text = ids.text || (msg.media ? `[${MEDIA_LABELS[msg.media] ?? '文件'}]` : '');
    const relay = (ticketId: string): Intake['ticket'] => ({ ids: [ticketId], statements: (inboundId) => store.tickets.relayStatements(ticketId, inboundId, text, msg.at) });
    let replies: string[] = [];
    let ticket: Intake['ticket'];
    switch (step.kind) {
      case 'relay':
      case 'same':
        ticket = relay(latest!.id);
        if (step.kind === 'same') replies = [formatSame(latest!)];
        break;
      case 'status': {
        const mine = await store.tickets.list({ requester: { channel: msg.channel, userId: msg.userId }, limit: 50 });
        replies = [formatStatus(mine.filter((t) => t.chatId === msg.chatId).slice(0, STATUS_TICKETS))];
        break;
      }
      case 'rate':
        ticket = { ids: [latest!.id], statements: () => store.tickets.userActionStatements(latest!, { type: 'rate', rating: step.rating }, received, rules, step.comment) };
        replies = [formatRated(step.rating)];
        break;
      case 'reopen':
        if (step.refusal) replies = [step.refusal];
        else {
          const reopen = store.tickets.userActionStatements(latest!, { type: 'reopen' }, received, rules);
          ticket = { ids: [latest!.id], statements: (inboundId) => [...reopen, ...store.tickets.relayStatements(latest!.id, inboundId, text, msg.at)] };
          replies = [formatReopened(latest!.number)];
        }
        break;
      case 'open': {
        const due = deadlines(step.category, received, rules, calendar);
        const opening = {
          channel: msg.channel, chatRef: ids.chatId, userRef: ids.userId, chatId: msg.chatId, userId: msg.userId, chatKind: msg.chatKind, userName: msg.userName || null,
          source: step.source, category: step.category, priority: step.priority, ...due, actor: 'user', at: received,
        } as const;
        replies = [formatOpened(NUMBER_PLACEHOLDER, step.source, step.category, due)];
        const id = newId();
        ticket = { ids: [id], statements: (_inboundId, outboxIds) => [...store.tickets.openStatements(opening, id, outboxIds).statements, ...store.tickets.fillNumber(id, outboxIds)] };
        break;
      }
    }
    const outbound = replies.flatMap((r) => quoteReply(msg, r, adapter.maxLength)).map((out) => this.queueItem(ids.chatId, out, 'reply', received));
    const inbound = { channel: msg.channel, chatId: ids.chatId, userId: ids.userId, direction: 'in' as const, channelMessageId: msg.messageId, text: msg.text, at: msg.at };
    let result;
    try {
      result = await store.intake.commit({ inbound, outbound, ...(ticket ? { ticket } : {}) });
    } catch (err) {
      if (step.kind === 'open' && isOpenConflict(err)) return this.handle(adapter, msg);
      throw err;
    }
    if (result.duplicate) {
      this.duplicate(msg);
      return;
    }
    this.opts.metrics.tickets.inc({ channel: msg.channel, step: step.kind });
    this.opts.queued?.(msg.channel, result.outboxIds);
  }

  /**
   * 绑定 123456, 订阅 / 退订 a topic, 我的订阅: stored at once, answered in the chat. Topics are the
   * knowledge categories that can go into a notice; anything else is answered with the list.
   */
  private async chatCommand(msg: InboundMessage, command: ChatCommand, at: Date): Promise<string> {
    const { store } = this.opts;
    const chat = { channel: msg.channel as 'telegram' | 'wechat', chatId: msg.chatId };
    if (command.kind === 'bind') {
      if (command.code === null) return BIND_HELP;
      const outcome = await store.bindings.redeem(command.code, chat, at);
      this.opts.log.info({ channel: msg.channel, outcome: outcome.ok ? 'linked' : outcome.reason }, '绑定码');
      return bindReply(outcome, beijingTime);
    }
    const topics = knowledgeTopics(this.opts.index(), at);
    if (command.kind === 'topics') return topicsReply(await store.subscribers.topics(chat), topics);
    if (command.kind === 'subscribe' && (command.topic === null || !topics.includes(command.topic))) return unknownTopicReply(command.topic, topics);
    if (command.kind === 'unsubscribe' && command.topic !== null && !topics.includes(command.topic)) return unknownTopicReply(command.topic, topics);
    await store.subscribers.setTopic(chat, command.topic ?? ALL_TOPICS, command.kind === 'subscribe', at);
    return choiceReply(command);
  }

  /**
   * A 已读 reply: confirms the notice it names, or the only one the chat has open, and says so;
   * with several open and none named, lists them. Confirming twice changes nothing. Null when it
   * gets no answer (an unaddressed 已读 in a group without open notices: chatter).
   */
  private async receipt(msg: InboundMessage, ack: ReadAck, addressed: boolean, at: Date): Promise<string | null> {
    const { delivery } = this.opts.store;
    const chat = { channel: msg.channel as 'telegram' | 'wechat', chatId: msg.chatId };
    const decided = decideAck(ack, await delivery.open(chat), addressed);
    if ('silent' in decided) return null;
    if ('reply' in decided) return decided.reply;
    const outcome = await delivery.markRead(decided.confirm.id, chat, 'reply', at);
    this.opts.log.info({ channel: msg.channel, notice: decided.confirm.id, outcome }, '通知已确认阅读');
    return ackReply(decided.confirm, at, outcome !== 'read');
  }

  /**
   * The handler of button presses to give an adapter's `start`: a 已读 button confirms its notice
   * for the chat it was pressed in, once; the answer says what happened and, the first time, how
   * to change the message so that it shows it was read.
   */
  pressHandlerFor(adapter: ChannelAdapter): (press: ButtonPress) => Promise<PressAnswer> {
    return async (press) => {
      const noticeId = readButtonNotice(press.data);
      if (!noticeId || adapter.channel === 'web') return { toast: '这个按钮已失效', edit: null };
      const at = this.now();
      const outcome = await this.opts.store.delivery.markRead(noticeId, { channel: adapter.channel, chatId: press.chatId }, 'button', at);
      this.opts.log.info({ channel: adapter.channel, notice: noticeId, outcome }, '通知已读按钮');
      if (outcome === 'unknown') return { toast: '这条通知不是发给本会话的', edit: null };
      if (outcome === 'already') return { toast: '您已确认阅读过这条通知', edit: null };
      return { toast: '已确认阅读，谢谢', edit: press.messageText === null ? null : `${press.messageText}\n\n已读（${beijingTime(at)} 确认）` };
    };
  }

  private duplicate(msg: InboundMessage): void {
    this.opts.metrics.dropped.inc({ channel: msg.channel, reason: 'duplicate' });
    this.opts.log.debug({ channel: msg.channel, messageId: msg.messageId }, '重复消息，已忽略');
  }

  /** A reply as an outbox row: sent first among waiting rows, expired rather than sent too late. */
  private queueItem(chatId: string, out: OutboundMessage, kind: 'reply' | 'warning', received: Date): NewOutboxItem {
    return {
      channel: out.channel, chatId, channelChatId: out.chatId, kind, priority: OUTBOX_PRIORITY.reply, text: out.text,
      replyTo: out.replyToMessageId ?? null, payload: out.mention || out.buttons ? { mention: out.mention, buttons: out.buttons } : null,
      at: received, expiresAt: new Date(received.getTime() + this.opts.maxAgeMs),
    };
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
}
