import type { Channel, InboundMessage, OutboundMessage } from '../core/conversation/types.js';
import type { ChatKind, Rate } from '../store/index.js';

/** What the gateway does with each message a channel receives; resolves once it is stored. */
export type InboundHandler = (msg: InboundMessage) => Promise<void>;

/** A press of a button under one of the bot's messages (Telegram's callback query). */
export interface ButtonPress {
  readonly chatId: string;
  readonly userId: string;
  /** The network's id of the message the button is under. */
  readonly messageId: string;
  /** The message's text as the network shows it now; null when it cannot tell. */
  readonly messageText: string | null;
  readonly data: string;
}

/** What to do about a press: a short answer shown to the presser, and the message's new text (null: unchanged, buttons kept). */
export interface PressAnswer {
  readonly toast: string;
  readonly edit: string | null;
}

/** What the gateway does with a button press; the adapter answers it and edits the message as told. */
export type PressHandler = (press: ButtonPress) => Promise<PressAnswer>;

/**
 * A chat network, reduced to what the gateway and the dispatcher need: translate its messages into
 * {@link InboundMessage}, send {@link OutboundMessage}s, start and stop. Adapters hold no rules of
 * their own: addressing, replies and de-duplication are shared (gateway.ts), order, rate limits and
 * retries too (dispatcher.ts).
 */
export interface ChannelAdapter {
  readonly channel: Channel;
  /** Most characters one message may carry on this network. */
  readonly maxLength: number;
  /** Names the bot answers to when @mentioned (known once started). */
  readonly botNames: () => readonly string[];
  /** Connects and starts delivering messages to `handler`, and button presses to `onPress` (channels with buttons). */
  start(handler: InboundHandler, onPress?: PressHandler): Promise<void>;
  /**
   * Sends one message; resolves with the network's id of the sent message when it tells one, and
   * rejects with {@link ChannelError} when the network refuses or fails.
   */
  send(msg: OutboundMessage): Promise<string | null>;
  /** Stops receiving; messages already being handled are finished by the gateway. */
  stop(): Promise<void>;
  /** For channels that log in by scanning a QR code (WeChat): the code waiting to be scanned, if any. */
  loginQr?(): { readonly url: string; readonly status: string } | null;
}

/**
 * Why a send did not go through, which decides what the dispatcher does next:
 * - `network`: no answer, or the network's own failure (Telegram 5xx): the same message may go
 *   through later; retried with back-off.
 * - `rate_limited`: the network asks to slow down (Telegram 429) for `retryAfterMs`: the whole
 *   channel pauses.
 * - `unreachable`: the bot may not write to this chat any more (blocked by the user, removed from
 *   the group: Telegram 403): the chat is marked and skipped by broadcasts.
 * - `refused`: the network said no to this message (Telegram 400, a WeChat room we left); sending
 *   it again will not help.
 */
export type SendFailure = 'refused' | 'network' | 'rate_limited' | 'unreachable';

/** A send that did not go through; `kind` says what to do about it (see {@link SendFailure}). */
export class ChannelError extends Error {
  constructor(
    readonly channel: Channel,
    readonly kind: SendFailure,
    message: string,
    /** How long the network asked to wait (`rate_limited`). */
    readonly retryAfterMs?: number,
  ) {
    super(message);
    this.name = 'ChannelError';
  }
}

/**
 * How fast one channel may send, enforced by the dispatcher for every instance on the database
 * together. A budget that is spent delays a message, never drops it.
 */
export interface ChannelLimits {
  /** Per chat, by kind: sends within every rate, counted from the messages sent to that chat. */
  readonly chat: Readonly<Record<ChatKind, readonly Rate[]>>;
  /** For the whole account or bot: counted in fixed windows in the store (`send_budget`). */
  readonly account: readonly Rate[];
  /**
   * For broadcasts only (notices, reminders), on top of `account`: when one is spent, every waiting
   * broadcast of the channel waits for its window's end (a WeChat day: tomorrow in Beijing) while
   * replies keep going.
   */
  readonly broadcast: readonly Rate[];
  /** Most sends under way at once on this channel, per instance. */
  readonly concurrency: number;
  /**
   * Spreads sends over the tightest account window instead of sending a window's worth at once;
   * `jitter` makes each gap random between half and one and a half times the even one, so the
   * account does not send like a machine (WeChat).
   */
  readonly jitter: boolean;
}

/** The limits the configuration sets: TELEGRAM_BOT_LIMIT, TELEGRAM_CHAT_LIMIT, TELEGRAM_GROUP_LIMIT, WECHAT_ROOM_LIMIT, WECHAT_ACCOUNT_LIMIT, WECHAT_DAY_LIMIT. */
export interface LimitSettings {
  readonly telegram: { readonly perBot: number; readonly perChat: number; readonly perGroup: number };
  readonly wechat: { readonly perRoom: number; readonly perAccount: number; readonly perDay: number };
}

/** A day in Beijing as a fixed budget window: a day long, starting at 16:00 UTC. */
export const BEIJING_DAY = { windowMs: 86_400_000, offsetMs: 8 * 3_600_000 } as const;

/**
 * The channels' limits. Telegram publishes about 30 messages a second per bot, one a second per
 * chat and 20 a minute per group. WeChat publishes nothing and throttles or bans accounts that
 * send much, so its budgets are conservative (10 a minute per room or contact, 60 for the account)
 * and its sends go one at a time with random gaps; notices and reminders also stop for the day
 * after `perDay` messages (200 by default) and go on the next Beijing day.
 */
export function channelLimits(settings: LimitSettings): Partial<Record<Channel, ChannelLimits>> {
  const { telegram, wechat } = settings;
  const perChatSecond: Rate = { limit: telegram.perChat, windowMs: 1_000 };
  const room: Rate = { limit: wechat.perRoom, windowMs: 60_000 };
  return {
    telegram: {
      chat: { private: [perChatSecond], group: [perChatSecond, { limit: telegram.perGroup, windowMs: 60_000 }] },
      account: [{ limit: telegram.perBot, windowMs: 1_000 }],
      broadcast: [],
      concurrency: 32,
      jitter: false,
    },
    wechat: {
      chat: { private: [room], group: [room] },
      account: [{ limit: wechat.perAccount, windowMs: 60_000 }],
      broadcast: [{ limit: wechat.perDay, ...BEIJING_DAY }],
      concurrency: 1,
      jitter: true,
    },
  };
}
