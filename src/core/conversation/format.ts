import type { Answer, Suggestion } from '../search/index.js';

/** How to reach a person, appended to answers. */
export const HUMAN_HELP = '还有疑问？可拨打12366纳税缴费服务热线，或回复“转人工”联系工作人员。';

/** The honest "don't know": nothing in the knowledge covers the question, so no guess, only the way to a person. */
export const NO_MATCH = '这个问题我还回答不了。您可以拨打12366纳税缴费服务热线，或回复“转人工”联系工作人员。';

/** What the bot says about itself to /start, /help and 帮助: what it can do and how to ask it, in a group too. */
export const INTRODUCTION = [
  '您好，我是春风税务助手，可以解答留抵退税、发票、注销、个税汇算、社保费等常见办税问题，并注明政策依据。',
  '私聊直接发问题即可；在群里请@我，或以“请问”开头，例如“请问个体户注销要办什么手续”。',
  '我列出几个相近的问题时，回复序号即可查看；需要工作人员协助，请回复“转人工”。',
].join('\n');

/** The reply to a greeting or small talk: short, and one line on what the bot can do rather than a wrong answer. */
export const GREETING = '您好，我是春风税务助手，可以解答发票、注销、个税、社保费、留抵退税等常见办税问题，请直接告诉我您的问题。';

/** The reply to thanks: a greeting back would read as if the bot had not understood. */
export const THANKS = '不客气。还有办税方面的问题，随时问我。';

/** The one message a user who floods the bot gets before it goes quiet for a while. */
export const FLOOD_WARNING = '您发送得太快了，请稍后再问。';

/** Where the tax office can be reached, from configuration. */
export interface OfficeContact {
  readonly name: string;
  readonly contact: string;
}

/** Where a person can be reached: the configured office, and the 12366 hotline. */
function reachPerson(office: OfficeContact | null): string {
  return office ? `请联系${office.name}${office.contact ? `（${office.contact}）` : ''}，或拨打12366纳税缴费服务热线` : '请拨打12366纳税缴费服务热线';
}

/**
 * The dialog's reply to 转人工 and 投诉 when nothing opened a ticket for them (the gateway decides
 * tickets first, so in a chat this is a fallback): how to be handed over, and where else a person is.
 */
export function formatHandoff(office: OfficeContact | null): string {
  return `需要工作人员帮助，请回复“转人工”，我为您登记工单并转给工作人员；也可以${reachPerson(office).replace(/^请/u, '')}。`;
}

/**
 * The one line for a picture, voice message, file or sticker without text in a private chat, on every
 * channel: the bot cannot read it, so it asks for the question in words and names where a person can
 * be reached: 转人工, the office, 12366.
 */
export function formatMediaOnly(office: OfficeContact | null): string {
  return `您好，我只能回答文字提问，看不了图片、语音、文件等内容，请用文字把问题发给我。需要人工帮助，请回复“转人工”，或${reachPerson(office).replace(/^请/u, '')}。`;
}

/** Numbered close entries, for the user to pick one by replying its number. */
export function formatSuggestions(suggestions: readonly Suggestion[]): string {
  return ['您是不是想问：', ...suggestions.map((s, i) => `${i + 1}. ${s.title}`), '回复数字查看。'].join('\n');
}

/** The reply to a number that is not on the list offered: the list again, with the numbers that work. */
export function formatPickOutOfRange(suggestions: readonly Suggestion[]): string {
  const range = suggestions.length === 1 ? '1' : `1到${suggestions.length}之间的数字`;
  return [`请回复${range}：`, ...suggestions.map((s, i) => `${i + 1}. ${s.title}`)].join('\n');
}

/** Whether a source line already names a cited article: 《法》第三十一条 in “《法》第二十七条、第三十一条”. */
function namedIn(sources: readonly string[], citation: string): boolean {
  const [statute, article] = citation.split('》');
  return sources.some((s) => s.includes(`${statute}》`) && article !== undefined && s.includes(article));
}

/**
 * Turns a decision into the plain text a taxpayer reads: the entry's title and answer with its
 * source, numbered suggestions, a greeting for small talk, or an honest "don't know" with how to
 * reach a person.
 */
export function formatAnswer(a: Answer): string {
  if (a.answered && a.title && a.answer) {
    const basis = [...a.sources, ...a.citations.map((c) => c.title).filter((t) => !namedIn(a.sources, t))];
    return [`【${a.title}】`, a.answer, basis.length ? `依据：${basis.join(' ｜ ')}` : '', HUMAN_HELP].filter(Boolean).join('\n');
  }
  if (a.reason === 'small_talk' || a.reason === 'empty') return GREETING;
  if (a.reason === 'uncertain' && a.suggestions.length > 0) return formatSuggestions(a.suggestions);
  return NO_MATCH;
}
