import type { Channel, InboundMessage, OutboundMessage } from '../core/conversation/types.js';

/** What the gateway does with each message a channel receives. */
export type InboundHandler = (msg: InboundMessage) => Promise<void>;

/**
 * A chat network, reduced to what the gateway needs: translate its messages into
 * {@link InboundMessage}, send {@link OutboundMessage}s, start and stop. Adapters hold no rules of
 * their own: addressing, replies, de-duplication and budgets are shared (gateway.ts).
 */
export interface ChannelAdapter {
  readonly channel: Channel;
  /** Most characters one message may carry on this network. */
  readonly maxLength: number;
  /** Names the bot answers to when @mentioned (known once started). */
  readonly botNames: () => readonly string[];
  /** Connects and starts delivering messages to `handler`. */
  start(handler: InboundHandler): Promise<void>;
  /** Sends one message; rejects with {@link ChannelError} when the network refuses or fails. */
  send(msg: OutboundMessage): Promise<void>;
  /** Stops receiving; messages already being handled are finished by the gateway. */
  stop(): Promise<void>;
  /** For channels that log in by scanning a QR code (WeChat): the code waiting to be scanned, if any. */
  loginQr?(): { readonly url: string; readonly status: string } | null;
}

/**
 * A send that did not go through. `refused`: the network answered no (Telegram 400/403/429, a
 * WeChat room we left); retrying the same message at once will not help. `network`: no answer, or
 * the network's own failure (Telegram 5xx); the same message may go through later.
 */
export class ChannelError extends Error {
  constructor(
    readonly channel: Channel,
    readonly kind: 'refused' | 'network',
    message: string,
  ) {
    super(message);
    this.name = 'ChannelError';
  }
}

/** Outgoing limits per chat and per account in fixed windows, kept in the store so instances share them. */
export interface SendBudget {
  readonly perChat: { readonly limit: number; readonly windowMs: number };
  readonly perAccount: { readonly limit: number; readonly windowMs: number };
}

/**
 * Conservative outgoing budgets. WeChat throttles and bans accounts that send much, so a room gets
 * at most 10 messages a minute and the account 60; Telegram publishes 20 a minute per group and
 * about 30 a second per bot.
 */
export const DEFAULT_BUDGETS: Record<Channel, SendBudget> = {
  wechat: { perChat: { limit: 10, windowMs: 60_000 }, perAccount: { limit: 60, windowMs: 60_000 } },
  telegram: { perChat: { limit: 20, windowMs: 60_000 }, perAccount: { limit: 30, windowMs: 1_000 } },
  web: { perChat: { limit: 60, windowMs: 60_000 }, perAccount: { limit: 100_000, windowMs: 60_000 } },
};
