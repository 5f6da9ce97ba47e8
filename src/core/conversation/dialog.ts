import type { Answer, Suggestion } from '../search/index.js';
import { address } from './addressing.js';
import {
  GREETING, INTRODUCTION, THANKS, formatAnswer, formatHandoff, formatMediaOnly, formatPickOutOfRange, type OfficeContact,
} from './format.js';
import { splitText } from './split.js';
import type { InboundMessage, OutboundMessage } from './types.js';

/** Everything `decide` needs besides the message: configuration and what is remembered about this user in this chat. */
export interface DialogContext {
  /** Names the bot goes by in mentions: its WeChat name and group aliases, its Telegram username. */
  readonly botNames: readonly string[];
  /** Suggestions offered to this user in this chat and not yet expired, or null. */
  readonly pendingSuggestions: readonly Suggestion[] | null;
  /** The office's name and contact for 转人工, from configuration; null: only 12366 is named. */
  readonly office: OfficeContact | null;
  /** Most characters the channel takes in one message. */
  readonly channelLimit: number;
  /**
   * The answer for one entry by id, for a picked suggestion: asking its title again could land on
   * a neighbour. Null when the entry is gone (the knowledge was reloaded); the title is asked then.
   */
  readonly lookup: (id: string) => Answer | null;
}

/** What a reply was about: the ranking of hot questions and the unanswered inbox are built from it. */
export type Topic = 'answer' | 'suggest' | 'no_match' | 'greeting' | 'help' | 'human' | 'pick' | 'media' | 'receipt' | 'subscription';

/** A reply to send, and what to remember and store with it. */
export interface Reply {
  readonly kind: 'reply';
  readonly topic: Topic;
  /** What the bot understood was asked: mention and 请问 removed. */
  readonly question: string;
  readonly messages: OutboundMessage[];
  /** The search decision behind the reply (entry, score, reason); null for help and 转人工. */
  readonly answer: Answer | null;
  /** Suggestions to remember for this user in this chat, replacing any before; null clears them. */
  readonly offer: Suggestion[] | null;
}

/**
 * The dialog's decision on one message: silence for group chatter, or a reply. The flood rule is
 * the gateway's: it needs counts shared by every instance, which live in the store.
 */
export type Decision = { readonly kind: 'ignore'; readonly why: 'not_addressed' | 'no_text' } | Reply;

/** `ask` answers a question; the index's `ask` bound to the current time. */
export type Ask = (question: string) => Answer;

const HELP = /^(?:\/start|\/help)(?:\s|$)|^(?:帮助|使用帮助|help)$/iu;
/** A request for a person; a question that merely mentions 投诉 ("投诉了多久会有回复") goes to the index. */
const HANDOFF = /转人工|人工客服|人工服务|^人工$|^(?:我要|我想|我需要)?投诉(?:$|[\s:：,，])|^(?:我要|我想)投诉/u;
const THANKFUL = /谢|辛苦|thank|thx/iu;
const CHINESE_DIGITS = '一二三四五六七八九';
/** A pick: 2, ２, 第2个, 第二个, 2号; a bare 二 is too easily something else. */
const PICK = /^(?:第\s*([0-9]{1,2}|[一二三四五六七八九])\s*[个條条项項号號]?|([0-9]{1,2})\s*[个條条项項号號]?|([一二三四五六七八九])\s*[个条项号])$/u;
const TRAILING_PUNCTUATION = /[\s\u2005。.！!？?、,，~～]+$/u;

/**
 * Decides what the bot does with one message: stay silent, or reply with an answer, suggestions,
 * a greeting, the introduction or the way to a person. Pure: the caller
 * stores the message with the decision, remembers `offer`, and hands `messages` to the channel.
 */
export function decide(msg: InboundMessage, ctx: DialogContext, ask: Ask): Decision {
  // Media with nothing to read: one line in a private chat; in a group nobody asked the bot anything.
  if (msg.media && !msg.text.trim()) {
    if (msg.chatKind !== 'private') return { kind: 'ignore', why: 'no_text' };
    return { kind: 'reply', topic: 'media', question: '', messages: quoteReply(msg, formatMediaOnly(ctx.office), ctx.channelLimit), answer: null, offer: ctx.pendingSuggestions ? [...ctx.pendingSuggestions] : null };
  }
  const pending = ctx.pendingSuggestions && ctx.pendingSuggestions.length > 0 ? ctx.pendingSuggestions : null;
  const question = address(msg, ctx.botNames)?.question ?? barePick(msg, pending);
  if (question === null) return { kind: 'ignore', why: 'not_addressed' };

  const reply = (topic: Topic, text: string, answer: Answer | null, offer: readonly Suggestion[] | null): Reply => ({
    kind: 'reply', topic, question, messages: quoteReply(msg, text, ctx.channelLimit), answer, offer: offer ? [...offer] : null,
  });

  const plain = question.replace(TRAILING_PUNCTUATION, '');
  if (HELP.test(plain)) return reply('help', INTRODUCTION, null, null);
  if (HANDOFF.test(plain)) return reply('human', formatHandoff(ctx.office), null, null);

  const picked = pending ? parsePick(plain) : null;
  if (pending && picked !== null) {
    const suggestion = pending[picked - 1];
    if (!suggestion) return reply('suggest', formatPickOutOfRange(pending), null, pending);
    const answer = ctx.lookup(suggestion.id) ?? ask(suggestion.title);
    // The list stays on offer after a pick: the entries are close neighbours, and the first pick is often not the one.
    if (answer.answered) return reply('pick', formatAnswer(answer), answer, pending);
    return replyTo(answer, reply);
  }
  return replyTo(ask(question), reply);
}

type ReplyBuilder = (topic: Topic, text: string, answer: Answer | null, offer: readonly Suggestion[] | null) => Reply;

function replyTo(answer: Answer, reply: ReplyBuilder): Reply {
  if (answer.answered) return reply('answer', formatAnswer(answer), answer, null);
  switch (answer.reason) {
    case 'small_talk':
    case 'empty':
      return reply('greeting', THANKFUL.test(answer.q) ? THANKS : GREETING, answer, null);
    case 'uncertain':
      if (answer.suggestions.length > 0) return reply('suggest', formatAnswer(answer), answer, answer.suggestions);
      return reply('no_match', formatAnswer(answer), answer, null);
    default:
      return reply('no_match', formatAnswer(answer), answer, null);
  }
}

/**
 * The bot's own suggestion list says "回复数字查看", and in a group people answer it with a bare
 * number; such a reply from the user who was offered the list is for the bot. Only a number on
 * the list counts: a bare "1" is also how a group says "收到".
 */
function barePick(msg: InboundMessage, pending: readonly Suggestion[] | null): string | null {
  if (!pending) return null;
  const text = msg.text.trim();
  const n = parsePick(text.replace(TRAILING_PUNCTUATION, ''));
  return n !== null && n <= pending.length ? text : null;
}

/** The number in a pick reply (1-based), or null when the text is not just a number. */
function parsePick(text: string): number | null {
  const m = PICK.exec(text.normalize('NFKC').trim());
  if (!m) return null;
  const token = m[1] ?? m[2] ?? m[3] ?? '';
  const n = /^[0-9]+$/u.test(token) ? Number(token) : CHINESE_DIGITS.indexOf(token) + 1;
  return n >= 1 ? n : null;
}

/**
 * The reply as channel messages. In a group each part names the asker, so it reads as an answer
 * to them among other members' messages: Telegram (and the web) quote their message, WeChat
 * @mentions them. The mention is rendered by the adapter in front of the text, so its length is
 * kept free within the channel's limit.
 */
export function quoteReply(msg: InboundMessage, text: string, limit: number): OutboundMessage[] {
  const base = { channel: msg.channel, chatId: msg.chatId };
  if (msg.chatKind === 'private') return splitText(text, limit).map((t) => ({ ...base, text: t }));
  if (msg.channel === 'wechat') {
    const mention = { userId: msg.userId, name: msg.userName };
    const room = Math.max(2, limit - mentionLength(msg.userName));
    return splitText(text, room).map((t) => ({ ...base, text: t, mention }));
  }
  return splitText(text, limit).map((t) => ({ ...base, text: t, replyToMessageId: msg.messageId }));
}

/** What "@name" and the U+2005 after it take in a WeChat message. */
function mentionLength(name: string): number {
  return name.length + 2;
}
