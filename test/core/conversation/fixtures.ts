import type { Answer, Suggestion } from '../../../src/core/search/index.js';
import type { Ask, DialogContext } from '../../../src/core/conversation/dialog.js';
import type { InboundMessage } from '../../../src/core/conversation/types.js';

/** A few real entries, as the index would answer them. */
export const ENTRIES = {
  'deregister-individual': {
    title: '个体工商户注销的涉税手续',
    answer: '没有办理过涉税事项的个体工商户，不用到税务机关开清税证明，可以直接到市场监管部门申请注销；办理过涉税事项但没有领用发票、没有欠税和罚款的，税务机关即时办结。',
    sources: ['税总发〔2019〕64号'],
  },
  'invoice-red-letter': {
    title: '发票开错了怎么办（作废和红冲）',
    answer: '当月开具的发票开错了，未跨月且对方未认证的可以作废；已跨月或已认证的，开具红字发票冲销后重新开具。',
    sources: ['国家税务总局公告2016年第47号'],
  },
  'invoice-lost': {
    title: '发票丢失了怎么办',
    answer: '丢失已开具的发票联，可凭加盖销售方发票专用章的记账联复印件作为记账凭证；丢失抵扣联的，可凭发票联复印件认证。',
    sources: ['国家税务总局公告2016年第47号'],
  },
  'invoice-digital': {
    title: '什么是数电发票，怎么开具',
    answer: '数电发票是全面数字化的电子发票，登录电子税务局进入“开票业务”即可开具，不需要税控设备。',
    sources: ['国家税务总局公告2024年第11号'],
  },
} as const;

/** Ids of the fixture entries. */
export type EntryId = keyof typeof ENTRIES;

/** The answer the index gives when it is sure of an entry. */
export function answered(q: string, id: EntryId): Answer {
  const e = ENTRIES[id];
  return {
    q, answered: true, id, title: e.title, score: 12.5, answer: e.answer, suggestions: [], reason: 'answered',
    kind: 'faq', category: '发票', sources: [...e.sources], citations: [],
  };
}

/** A suggestion for one fixture entry. */
export function suggestion(id: EntryId, score: number): Suggestion {
  return { id, title: ENTRIES[id].title, score };
}

/** The answer the index gives when a few entries are close and none is sure. */
export function uncertain(q: string, ids: readonly EntryId[]): Answer {
  return {
    q, answered: false, id: null, title: null, score: 0, answer: null, suggestions: ids.map((id, i) => suggestion(id, 5 - i)), reason: 'uncertain',
    kind: null, category: null, sources: [], citations: [],
  };
}

/** The answer the index gives to what it does not cover, to small talk, or to no words at all. */
export function unanswered(q: string, reason: 'no_match' | 'small_talk' | 'empty'): Answer {
  return { q, answered: false, id: null, title: null, score: 0, answer: null, suggestions: [], reason, kind: null, category: null, sources: [], citations: [] };
}

const SMALL_TALK = new Set(['你好', '您好', '谢谢', '谢谢你', '收到', '好的']);

/** A fake index over the fixture entries that remembers what it was asked. */
export function fakeIndex(): { ask: Ask; lookup: (id: string) => Answer | null; asked: string[] } {
  const asked: string[] = [];
  const ask: Ask = (q) => {
    asked.push(q);
    const t = q.trim();
    if (t === '') return unanswered(q, 'empty');
    if (SMALL_TALK.has(t.replace(/[！!。]+$/u, ''))) return unanswered(q, 'small_talk');
    if (t.includes('注销')) return answered(q, 'deregister-individual');
    if (t.includes('发票') && t.includes('丢')) return answered(q, 'invoice-lost');
    if (t.includes('发票') && t.includes('开错')) return answered(q, 'invoice-red-letter');
    if (t.includes('发票')) return uncertain(q, ['invoice-red-letter', 'invoice-lost', 'invoice-digital']);
    return unanswered(q, 'no_match');
  };
  const lookup = (id: string): Answer | null => (id in ENTRIES ? answered(ENTRIES[id as EntryId].title, id as EntryId) : null);
  return { ask, lookup, asked };
}

/** Names the bot goes by in the fixtures: its WeChat name and its Telegram username. */
export const BOT_NAMES = ['春风税务助手', 'chunfeng_tax_bot'];

/** A dialog context with the defaults of a WeChat group; override what a test is about. */
export function context(lookup: DialogContext['lookup'], over: Partial<DialogContext> = {}): DialogContext {
  return { botNames: BOT_NAMES, pendingSuggestions: null, office: null, channelLimit: 2000, lookup, ...over };
}

let next = 1;

/** A group message from 张会计 on WeChat unless told otherwise. */
export function message(text: string, over: Partial<InboundMessage> = {}): InboundMessage {
  return {
    channel: 'wechat', chatId: 'room-1', chatKind: 'group', userId: 'u-zhang', userName: '张会计', messageId: `m-${next++}`,
    text, mentionsBot: false, replyToBot: false, at: new Date('2026-11-22T09:00:00Z'), ...over,
  };
}
