import { stripMentions } from '../text/normalize.js';
import type { InboundMessage } from './types.js';

/** Why a message counts as addressed to the bot; stored with the decision, it shows which rule let a message in. */
export type AddressedBy = 'private' | 'mention' | 'reply' | 'command' | 'keyword' | 'prefix';

/** A message for the bot and the question in it. */
export interface Addressed {
  readonly by: AddressedBy;
  /** The text with the bot's mention and an opening 问/请问/咨询 removed; a command without its @botname. */
  readonly question: string;
}

/** What of a message addressing looks at. */
export type AddressableMessage = Pick<InboundMessage, 'chatKind' | 'text' | 'mentionsBot' | 'replyToBot'>;

/** Commands a bare `/command` in a group may mean for us: Telegram sends those to every bot in the group. */
const OUR_COMMANDS = new Set(['start', 'help']);
/**
 * Whole messages that are for the bot even in a group without a mention: the bot's own answers tell
 * users to reply with them, and nobody says them to another member.
 */
const KEYWORDS = new Set(['转人工', '人工客服']);

const SPACE = '\\s\\u2005';
const COMMAND = /^\/([a-z0-9_]+)(?:@([a-z0-9_]+))?(?=\s|$)/iu;
/** Separators between a prefix or a mention and the question. */
const LEAD = /^[\s\u2005:：,，、.。]+/u;
/** At least two letters, digits or Han characters: "请问？" alone asks nothing. */
const HAS_WORDS = /[\p{Script=Han}\p{L}\p{N}].*[\p{Script=Han}\p{L}\p{N}]/su;
/** Words that make a sentence a question: 问 followed straight by text must have one to count as asking. */
const QUESTION_MARK = /[?？吗呢咋]|怎|如何|什么|啥|哪|多少|几|能否|是否|可否|可以|能不能|可不可以|要不要|需不需要|需要|有没有|是不是|为什么|为何|多久|何时/u;

/** 请问 is always a request; 一下/下 may follow it. */
const QING_WEN = /^(?:请问|請問)(?:一下|下)?/u;
/** 咨询 opens a request unless it is part of a noun or a narration (咨询费, 咨询公司, 咨询过). */
const ZI_XUN = /^(?:咨询|諮詢)(?:一下|下|个问题|一个问题|个事)?/u;
const ZI_XUN_WORD = /^(?:咨询|諮詢)(?:费|師|师|公司|服务|業|业|机构|機構|过|過|了|中心|顾问|顧問|热线|電話|电话|台|室|处|窗口|量|类|者|人员|的)/u;
/** 问 on its own opens 问题, 问好, 问候, 问他 ... : only these forms, or 问 before a question, ask the bot. */
const WEN_FILLER = /^(?:问|問)(?:一下|下|个问题|一个问题|几个问题|个事|件事)/u;
const WEN_SEPARATED = /^(?:问|問)(?=[\s\u2005:：,，])/u;
const WEN_BARE = /^(?:问|問)/u;
const WEN_WORD = /^(?:问|問)[题題好候安卷责責世号號答津路询詢诊診鼎罪话話问問过過了他她它你我们們起清明住倒心及着得到完遍]/u;

/**
 * Decides whether a message is for the bot, and the question in it. A private chat is always for
 * the bot. In a group the bot speaks only when addressed: the channel says it was @mentioned, the
 * text @mentions one of `botNames` (Wechaty's `mentionSelf()` misses mentions on some puppets), the
 * message replies to the bot, it is one of our commands or keywords, or it opens with 问/请问/咨询
 * followed by a question. Anything else in a group is chatter: null.
 */
export function address(msg: AddressableMessage, botNames: readonly string[]): Addressed | null {
  const isPrivate = msg.chatKind === 'private';
  const command = COMMAND.exec(msg.text.trim());
  if (command) {
    const [whole, name = '', target] = command;
    const ours = target === undefined ? OUR_COMMANDS.has(name.toLowerCase()) : botNames.some((b) => b.toLowerCase() === target.toLowerCase());
    if (!ours && !isPrivate) return null;
    const question = `/${name.toLowerCase()}${msg.text.trim().slice(whole.length)}`;
    return { by: isPrivate ? 'private' : 'command', question };
  }

  const { text, found } = removeBotMentions(msg.text, botNames);
  // The channel saw a mention of the bot under a name we were not told (a group alias): drop it where mentions sit.
  const unmentioned = msg.mentionsBot && !found ? stripMentions(text) : text;
  const trimmed = unmentioned.replace(LEAD, '').trim();
  const prefixed = stripAskPrefix(trimmed);
  const question = prefixed ?? trimmed;

  if (isPrivate) return { by: 'private', question };
  if (msg.mentionsBot || found) return { by: 'mention', question };
  if (msg.replyToBot) return { by: 'reply', question };
  if (KEYWORDS.has(trimmed.replace(/[。.!！]+$/u, ''))) return { by: 'keyword', question };
  if (prefixed !== null) return { by: 'prefix', question };
  return null;
}

/**
 * The question after an opening 问/请问/咨询, or null when the text does not open with one followed
 * by a question ("问题不大", "问好", "咨询费怎么开票", "请问@张会计 ..." which asks another member).
 */
export function stripAskPrefix(text: string): string | null {
  const t = text.trimStart();
  let rest: string;
  if (QING_WEN.test(t)) rest = t.replace(QING_WEN, '');
  else if (ZI_XUN.test(t) && !ZI_XUN_WORD.test(t)) rest = t.replace(ZI_XUN, '');
  else if (WEN_FILLER.test(t)) rest = t.replace(WEN_FILLER, '');
  else if (WEN_SEPARATED.test(t)) rest = t.replace(WEN_SEPARATED, '');
  else if (WEN_BARE.test(t) && !WEN_WORD.test(t)) {
    rest = t.replace(WEN_BARE, '');
    if (!QUESTION_MARK.test(rest)) return null;
  } else return null;
  const question = rest.replace(LEAD, '').trim();
  if (question.startsWith('@') || question.startsWith('＠')) return null;
  return HAS_WORDS.test(question) ? question : null;
}

/** The mention pattern of the last set of bot names: they change only when the account logs in again. */
let mentionPattern: { key: string; pattern: RegExp | null } = { key: '', pattern: null };

function mentionPatternFor(botNames: readonly string[]): RegExp | null {
  const names = botNames.filter((n) => n.length > 0).sort((a, b) => b.length - a.length);
  const key = names.join('\n');
  if (mentionPattern.key !== key) {
    mentionPattern = { key, pattern: names.length > 0 ? new RegExp(`[@＠](?:${names.map(escapeRegExp).join('|')})(?:[${SPACE}]+|$)`, 'giu') : null };
  }
  return mentionPattern.pattern;
}

/** Removes every @mention of one of the bot's names (followed by a space, U+2005 or the end of the text). */
function removeBotMentions(text: string, botNames: readonly string[]): { text: string; found: boolean } {
  const pattern = mentionPatternFor(botNames);
  if (!pattern) return { text, found: false };
  let found = false;
  const out = text.replace(pattern, () => {
    found = true;
    return ' ';
  });
  return { text: found ? out.replace(/[ ]{2,}/gu, ' ') : text, found };
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/gu, '\\$&');
}
