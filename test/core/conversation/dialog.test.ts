import { describe, expect, it } from 'vitest';
import { decide, type Decision, type Reply } from '../../../src/core/conversation/dialog.js';
import { GREETING, INTRODUCTION, THANKS, formatAnswer, formatMediaOnly } from '../../../src/core/conversation/format.js';
import type { Answer } from '../../../src/core/search/index.js';
import { ENTRIES, answered, context, fakeIndex, message, suggestion } from './fixtures.js';

function replied(d: Decision): Reply {
  if (d.kind !== 'reply') throw new Error(`expected a reply, got ${JSON.stringify(d)}`);
  return d;
}

/** What the user sees: the text of all parts together. */
function seen(d: Decision): string {
  return replied(d).messages.map((m) => m.text).join('');
}

const office = { name: '国家税务总局济南市历下区税务局第一税务分局', contact: '0531-12345678' };
const pending = [suggestion('invoice-red-letter', 5), suggestion('invoice-lost', 4), suggestion('invoice-digital', 3)];

describe('decide: group chatter', () => {
  it.each(['收到', '今天中午吃什么', '1', '问题不大'])('stays silent on %s without asking the index', (text) => {
    const idx = fakeIndex();
    expect(decide(message(text), context(idx.lookup), idx.ask)).toEqual({ kind: 'ignore', why: 'not_addressed' });
    expect(idx.asked).toEqual([]);
  });
});

describe('decide: answers when addressed', () => {
  it('answers a WeChat mention, @mentioning the asker, with the mention removed from the question', () => {
    const idx = fakeIndex();
    const msg = message('@春风税务助手\u2005个体户没开过票，注销还要去税务局吗', { mentionsBot: true });
    const d = replied(decide(msg, context(idx.lookup), idx.ask));
    expect(idx.asked).toEqual(['个体户没开过票，注销还要去税务局吗']);
    expect(d.topic).toBe('answer');
    expect(d.answer?.id).toBe('deregister-individual');
    expect(d.offer).toBeNull();
    expect(d.messages).toHaveLength(1);
    expect(d.messages[0]).toEqual({
      channel: 'wechat', chatId: 'room-1', text: formatAnswer(answered(d.question, 'deregister-individual')), mention: { userId: 'u-zhang', name: '张会计' },
    });
    expect(seen(d)).toMatch(/^【个体工商户注销的涉税手续】\n没有办理过涉税事项/u);
    expect(seen(d)).toContain('依据：税总发〔2019〕64号');
  });

  it('answers a mention the channel missed', () => {
    const idx = fakeIndex();
    const d = replied(decide(message('@春风税务助手 发票丢了怎么办'), context(idx.lookup), idx.ask));
    expect(idx.asked).toEqual(['发票丢了怎么办']);
    expect(seen(d)).toContain(ENTRIES['invoice-lost'].title);
  });

  it('answers a Telegram reply to the bot, quoting the asker message', () => {
    const idx = fakeIndex();
    const msg = message('那发票丢了怎么办', { channel: 'telegram', chatId: '-100200', messageId: '771', replyToBot: true });
    const d = replied(decide(msg, context(idx.lookup, { channelLimit: 4096 }), idx.ask));
    expect(d.messages.map((m) => [m.channel, m.chatId, m.replyToMessageId, m.mention])).toEqual([['telegram', '-100200', '771', undefined]]);
    expect(seen(d)).toContain('【发票丢失了怎么办】');
  });

  it('answers a group question opening with 请问, without the 请问', () => {
    const idx = fakeIndex();
    const d = replied(decide(message('请问个体户怎么注销'), context(idx.lookup), idx.ask));
    expect(idx.asked).toEqual(['个体户怎么注销']);
    expect(d.question).toBe('个体户怎么注销');
    expect(d.topic).toBe('answer');
  });

  it('quotes nobody in a private chat', () => {
    const idx = fakeIndex();
    const d = replied(decide(message('个体户怎么注销', { chatKind: 'private', channel: 'telegram' }), context(idx.lookup), idx.ask));
    expect(d.messages[0]?.replyToMessageId).toBeUndefined();
    expect(d.messages[0]?.mention).toBeUndefined();
  });
});

describe('decide: suggestions and picks', () => {
  it('offers numbered suggestions and remembers them', () => {
    const idx = fakeIndex();
    const d = replied(decide(message('@春风税务助手 发票的事', { userName: '李女士', userId: 'u-li' }), context(idx.lookup), idx.ask));
    expect(d.topic).toBe('suggest');
    expect(seen(d)).toBe('您是不是想问：\n1. 发票开错了怎么办（作废和红冲）\n2. 发票丢失了怎么办\n3. 什么是数电发票，怎么开具\n回复数字查看。');
    expect(d.offer?.map((s) => s.id)).toEqual(['invoice-red-letter', 'invoice-lost', 'invoice-digital']);
    expect(d.messages[0]?.mention).toEqual({ userId: 'u-li', name: '李女士' });
  });

  it.each(['@春风税务助手 2', '@春风税务助手 ２', '@春风税务助手 第2个', '@春风税务助手 第二个', '2', '2。'])('%s picks the second', (text) => {
    const idx = fakeIndex();
    const d = replied(decide(message(text), context(idx.lookup, { pendingSuggestions: pending }), idx.ask));
    expect(d.topic).toBe('pick');
    expect(d.answer?.id).toBe('invoice-lost');
    expect(seen(d)).toMatch(/^【发票丢失了怎么办】/u);
    expect(d.messages[0]?.mention?.name).toBe('张会计');
    expect(d.offer).toEqual(pending);
    expect(idx.asked).toEqual([]);
  });

  it('asks the title when the picked entry is gone', () => {
    const idx = fakeIndex();
    const d = replied(decide(message('@春风税务助手 1'), context(() => null, { pendingSuggestions: pending }), idx.ask));
    expect(idx.asked).toEqual(['发票开错了怎么办（作废和红冲）']);
    expect(d.answer?.id).toBe('invoice-red-letter');
  });

  it('shows the list again for a number not on it, and ignores a bare one in a group', () => {
    const idx = fakeIndex();
    const d = replied(decide(message('@春风税务助手 5'), context(idx.lookup, { pendingSuggestions: pending }), idx.ask));
    expect(d.topic).toBe('suggest');
    expect(seen(d)).toBe('请回复1到3之间的数字：\n1. 发票开错了怎么办（作废和红冲）\n2. 发票丢失了怎么办\n3. 什么是数电发票，怎么开具');
    expect(decide(message('5'), context(idx.lookup, { pendingSuggestions: pending }), idx.ask)).toEqual({ kind: 'ignore', why: 'not_addressed' });
  });

  it('treats a new question as a question, and clears the offer', () => {
    const idx = fakeIndex();
    const d = replied(decide(message('@春风税务助手 个体户怎么注销'), context(idx.lookup, { pendingSuggestions: pending }), idx.ask));
    expect(d.topic).toBe('answer');
    expect(d.offer).toBeNull();
  });
});

describe('decide: what the bot cannot answer', () => {
  it('says so honestly and names the way to a person', () => {
    const idx = fakeIndex();
    const d = replied(decide(message('@春风税务助手 公积金怎么提取'), context(idx.lookup), idx.ask));
    expect(d.topic).toBe('no_match');
    expect(seen(d)).toContain('这个问题我还回答不了');
    expect(seen(d)).toContain('12366');
    expect(seen(d)).toContain('转人工');
    expect(d.answer?.reason).toBe('no_match');
  });

  it.each([
    ['@春风税务助手 你好', GREETING],
    ['@春风税务助手', GREETING],
    ['@春风税务助手 谢谢', THANKS],
  ])('meets %s with a short greeting, not an answer', (text, expected) => {
    const idx = fakeIndex();
    const d = replied(decide(message(text), context(idx.lookup), idx.ask));
    expect(d.topic).toBe('greeting');
    expect(seen(d)).toBe(expected);
  });
});

describe('decide: help and 转人工', () => {
  it.each([
    ['/start', { chatKind: 'private' as const, channel: 'telegram' as const }],
    ['/help@chunfeng_tax_bot', { channel: 'telegram' as const }],
    ['帮助', { chatKind: 'private' as const }],
    ['@春风税务助手 帮助', {}],
  ])('%s gets the introduction', (text, over) => {
    const idx = fakeIndex();
    const d = replied(decide(message(text, over), context(idx.lookup), idx.ask));
    expect(d.topic).toBe('help');
    expect(seen(d)).toBe(INTRODUCTION);
    expect(idx.asked).toEqual([]);
  });

  it.each(['转人工', '人工客服', '我要投诉', '投诉：办税大厅态度差'])('%s names the office and 12366, plainly', (text) => {
    const idx = fakeIndex();
    const d = replied(decide(message(text, { chatKind: 'private' }), context(idx.lookup, { office }), idx.ask));
    expect(d.topic).toBe('human');
    expect(seen(d)).toContain(office.name);
    expect(seen(d)).toContain(office.contact);
    expect(seen(d)).toContain('12366');
    expect(seen(d)).toContain('请回复“转人工”');
    expect(idx.asked).toEqual([]);
  });

  it('names 12366 alone when no office is configured, and hears 转人工 in a group without a mention', () => {
    const idx = fakeIndex();
    const d = replied(decide(message('转人工'), context(idx.lookup), idx.ask));
    expect(seen(d)).toBe('需要工作人员帮助，请回复“转人工”，我为您登记工单并转给工作人员；也可以拨打12366纳税缴费服务热线。');
    expect(d.messages[0]?.mention?.name).toBe('张会计');
  });

  it('asks the index about a question that only mentions 投诉', () => {
    const idx = fakeIndex();
    decide(message('投诉了多久会有回复', { chatKind: 'private' }), context(idx.lookup), idx.ask);
    expect(idx.asked).toEqual(['投诉了多久会有回复']);
  });
});

describe('decide: long answers', () => {
  const long: Answer = { ...answered('个体户怎么注销', 'deregister-individual'), answer: '一、清税。二、注销营业执照，需要准备材料，包括申请书、执照正副本。'.repeat(20) };
  const ask = (): Answer => long;

  it.each([
    ['wechat' as const, 100 - '@张会计\u2005'.length],
    ['telegram' as const, 100],
  ])('splits on %s within the limit, every part quoting the asker, nothing lost', (channel, room) => {
    const d = replied(decide(message('@春风税务助手 个体户怎么注销', { channel }), context(() => null, { channelLimit: 100 }), ask));
    expect(d.messages.length).toBeGreaterThan(5);
    expect(seen(d)).toBe(formatAnswer(long));
    for (const m of d.messages) {
      expect(m.text.length).toBeLessThanOrEqual(room);
      expect(m.mention !== undefined || m.replyToMessageId !== undefined).toBe(true);
    }
  });
});

describe('decide: pictures, voice, files and stickers', () => {
  it('answers a caption like text: in a private chat, and in a group when it addresses the bot', () => {
    const idx = fakeIndex();
    const priv = replied(decide(message('发票丢了怎么办', { media: 'image', chatKind: 'private', chatId: 'u-zhang' }), context(idx.lookup), idx.ask));
    expect(seen(priv)).toContain(ENTRIES['invoice-lost'].title);
    const group = replied(decide(message('@春风税务助手 发票丢了怎么办', { media: 'file', mentionsBot: true }), context(idx.lookup), idx.ask));
    expect(seen(group)).toContain(ENTRIES['invoice-lost'].title);
    expect(decide(message('发票丢了怎么办', { media: 'image' }), context(idx.lookup), idx.ask)).toEqual({ kind: 'ignore', why: 'not_addressed' });
  });

  it.each(['image', 'voice', 'sticker', 'file'] as const)('replies to %s without words in a private chat with one line on text questions, naming the office', (media) => {
    const idx = fakeIndex();
    const d = replied(decide(message('', { media, chatKind: 'private', chatId: 'u-zhang' }), context(idx.lookup, { office }), idx.ask));
    expect(d.topic).toBe('media');
    expect(seen(d)).toBe(formatMediaOnly(office));
    expect(seen(d)).toContain('只能回答文字提问');
    expect(seen(d)).toContain(office.contact);
    expect(seen(d)).toContain('12366');
    expect(seen(d)).not.toContain('\n');
    expect(d.answer).toBeNull();
    expect(idx.asked).toEqual([]);
  });

  it('keeps suggestions on offer after a sticker, and says nothing in a group, even to a mention', () => {
    const idx = fakeIndex();
    const d = replied(decide(message(' ', { media: 'sticker', chatKind: 'private', chatId: 'u-zhang' }), context(idx.lookup, { pendingSuggestions: pending }), idx.ask));
    expect(d.offer).toEqual(pending);
    for (const over of [{}, { mentionsBot: true }, { replyToBot: true }]) {
      expect(decide(message('', { media: 'voice', ...over }), context(idx.lookup), idx.ask)).toEqual({ kind: 'ignore', why: 'no_text' });
    }
    expect(formatMediaOnly(null)).toBe('您好，我只能回答文字提问，看不了图片、语音、文件等内容，请用文字把问题发给我。需要人工帮助，请回复“转人工”，或拨打12366纳税缴费服务热线。');
  });
});
