import type { Answer } from '../search/index.js';

/** How to reach a person, appended to answers and to honest "don't know"s. */
export const HUMAN_HELP = '还有疑问？可拨打12366纳税缴费服务热线，或回复“转人工”联系工作人员。';

/** What the bot says about itself to greetings and to /help. */
export const INTRODUCTION =
  '您好，我是春风税务助手，可以解答留抵退税、发票、注销、个税汇算、社保费等常见办税问题，并注明政策依据。直接发问题即可，例如“个体户注销要办什么手续”。';

/**
 * Turns a decision into the plain text a taxpayer reads: the entry's title and answer with its
 * source, numbered suggestions, or an honest "don't know" with how to reach a person.
 */
export function formatAnswer(a: Answer): string {
  if (a.answered && a.title && a.answer) {
    const basis = [...a.sources, ...a.citations.map((c) => c.title)];
    return [`【${a.title}】`, a.answer, basis.length ? `依据：${basis.join(' ｜ ')}` : '', HUMAN_HELP].filter(Boolean).join('\n');
  }
  switch (a.reason) {
    case 'small_talk':
      return INTRODUCTION;
    case 'uncertain':
      return ['您是不是想问：', ...a.suggestions.map((s, i) => `${i + 1}. ${s.title}`), '回复数字查看。'].join('\n');
    default:
      return `这个问题我还回答不了。${HUMAN_HELP}`;
  }
}
