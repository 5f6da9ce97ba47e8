import { describe, expect, it } from 'vitest';
import { address, stripAskPrefix, type AddressableMessage } from '../../../src/core/conversation/addressing.js';
import { BOT_NAMES } from './fixtures.js';

function group(text: string, over: Partial<AddressableMessage> = {}): AddressableMessage {
  return { chatKind: 'group', text, mentionsBot: false, replyToBot: false, ...over };
}

describe('address: private chats', () => {
  it('takes every message, chatter included', () => {
    expect(address({ ...group('今天中午吃什么'), chatKind: 'private' }, BOT_NAMES)).toEqual({ by: 'private', question: '今天中午吃什么' });
  });

  it('still removes 请问 and a mention from the question', () => {
    expect(address({ ...group('@春风税务助手 请问个体户怎么注销'), chatKind: 'private' }, BOT_NAMES)?.question).toBe('个体户怎么注销');
  });
});

describe('address: group chatter is not for the bot', () => {
  it.each(['收到', '今天中午吃什么', '1', '好的，谢谢张会计', '@张会计 个体户怎么注销', '个体户怎么注销', '我想问一下发票怎么开'])('%s', (text) => {
    expect(address(group(text), BOT_NAMES)).toBeNull();
  });
});

describe('address: mentions', () => {
  it('trusts the channel and removes the mention from the question', () => {
    expect(address(group('@春风税务助手\u2005个体户没开过票，注销还要去税务局吗', { mentionsBot: true }), BOT_NAMES)).toEqual({
      by: 'mention', question: '个体户没开过票，注销还要去税务局吗',
    });
  });

  it.each([
    ['U+2005 after the name', '@春风税务助手\u2005发票丢了怎么办'],
    ['a space after the name', '@春风税务助手 发票丢了怎么办'],
    ['the name at the end', '发票丢了怎么办 @春风税务助手'],
    ['the name in the middle', '发票丢了 @春风税务助手 怎么办'],
    ['a full-width at sign', '＠春风税务助手 发票丢了怎么办'],
  ])('finds the name in the text when the channel missed it: %s', (_, text) => {
    const got = address(group(text), BOT_NAMES);
    expect(got?.by).toBe('mention');
    expect(got?.question.replace(/ /gu, '')).toBe('发票丢了怎么办');
  });

  it('matches a Telegram username whatever its case', () => {
    expect(address(group('@Chunfeng_Tax_Bot 发票丢了怎么办'), BOT_NAMES)).toEqual({ by: 'mention', question: '发票丢了怎么办' });
  });

  it('needs the name to end at a space, U+2005 or the end of the text', () => {
    expect(address(group('@春风税务助手们都在吗'), BOT_NAMES)).toBeNull();
  });

  it('prefers the longest of the bot names', () => {
    expect(address(group('@春风税务助手 注销'), ['春风', '春风税务助手'])?.question).toBe('注销');
  });

  it('removes a mention under a name it was not told when the channel says the bot was meant', () => {
    expect(address(group('@小春\u2005发票丢了怎么办', { mentionsBot: true }), BOT_NAMES)).toEqual({ by: 'mention', question: '发票丢了怎么办' });
  });

  it('removes 请问 after the mention, but keeps words that only start like it', () => {
    expect(address(group('@春风税务助手 请问个体户怎么注销'), BOT_NAMES)?.question).toBe('个体户怎么注销');
    expect(address(group('@春风税务助手 问题不大'), BOT_NAMES)?.question).toBe('问题不大');
  });
});

describe('address: replies, commands and keywords', () => {
  it('takes a reply to the bot as it is', () => {
    expect(address(group('2', { replyToBot: true }), BOT_NAMES)).toEqual({ by: 'reply', question: '2' });
  });

  it('takes our bare commands and those naming us, not those naming another bot', () => {
    expect(address(group('/help'), BOT_NAMES)).toEqual({ by: 'command', question: '/help' });
    expect(address(group('/start@chunfeng_tax_bot'), BOT_NAMES)).toEqual({ by: 'command', question: '/start' });
    expect(address(group('/help@other_bot'), BOT_NAMES)).toBeNull();
    expect(address(group('/poll'), BOT_NAMES)).toBeNull();
  });

  it('takes 转人工 on its own: the bot tells users to reply with it', () => {
    expect(address(group('转人工'), BOT_NAMES)).toEqual({ by: 'keyword', question: '转人工' });
    expect(address(group('别转人工了'), BOT_NAMES)).toBeNull();
  });
});

describe('address: 问/请问/咨询 at the start', () => {
  it.each([
    ['请问个体户怎么注销', '个体户怎么注销'],
    ['问：发票丢了怎么办', '发票丢了怎么办'],
    ['问 发票丢了怎么办', '发票丢了怎么办'],
    ['请问一下，社保费在哪里交', '社保费在哪里交'],
    ['请问下 个税汇算什么时候开始', '个税汇算什么时候开始'],
    ['咨询一下，数电发票怎么开', '数电发票怎么开'],
    ['咨询个体户注销流程', '个体户注销流程'],
    ['问一下留抵退税进度怎么查', '留抵退税进度怎么查'],
    ['问个问题：发票开错了怎么办', '发票开错了怎么办'],
    ['问个体户注销要去税务局吗', '个体户注销要去税务局吗'],
    ['請問個體戶怎麼註銷', '個體戶怎麼註銷'],
  ])('%s asks %s', (text, question) => {
    expect(address(group(text), BOT_NAMES)).toEqual({ by: 'prefix', question });
  });

  it.each([
    '问题不大', '问好', '问候一下大家', '问问张会计吧', '问了税务局，说不用', '问过了', '问他吧', '问一问', '问这么多干嘛',
    '咨询费怎么开票', '咨询公司的发票', '咨询过了，不行', '请问', '请问？', '问一下', '请问@张会计 这个怎么弄', '问题：发票丢了怎么办',
  ])('%s does not ask the bot', (text) => {
    expect(address(group(text), BOT_NAMES)).toBeNull();
    expect(stripAskPrefix(text)).toBeNull();
  });
});
