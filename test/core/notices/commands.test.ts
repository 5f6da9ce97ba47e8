import { describe, expect, it } from 'vitest';
import { bindReply, choiceReply, readChatCommand, topicsReply, unknownTopicReply } from '../../../src/core/notices/commands.js';
import { ALL_TOPICS } from '../../../src/core/notices/topics.js';

describe('chat commands about notices', () => {
  it('reads 绑定 with a 6-digit code, in the ways people type it', () => {
    for (const text of ['绑定 123456', '绑定123456', '绑定：123456', '绑定码 123456', ' 绑定 123456。']) {
      expect(readChatCommand(text), text).toEqual({ kind: 'bind', code: '123456' });
    }
    // No code, or a code of the wrong length: the chat is told how to write it.
    expect(readChatCommand('绑定')).toEqual({ kind: 'bind', code: null });
    expect(readChatCommand('绑定 12345')).toEqual({ kind: 'bind', code: null });
  });

  it('reads 订阅, 退订 and 我的订阅, and leaves questions that mention them to the FAQ', () => {
    expect(readChatCommand('订阅 留抵退税')).toEqual({ kind: 'subscribe', topic: '留抵退税' });
    expect(readChatCommand('退订 发票')).toEqual({ kind: 'unsubscribe', topic: '发票' });
    expect(readChatCommand('取消订阅 发票')).toEqual({ kind: 'unsubscribe', topic: '发票' });
    expect(readChatCommand('退订')).toEqual({ kind: 'unsubscribe', topic: null });
    expect(readChatCommand('我的订阅')).toEqual({ kind: 'topics' });
    for (const text of ['绑定银行卡怎么弄', '怎么绑定三方协议', '订阅号里怎么查发票真伪和开票额度的信息', '发票丢了怎么办', '订阅了什么东西会收费吗，个税app里面的']) {
      expect(readChatCommand(text), text).toBeNull();
    }
  });

  it('answers each choice in plain words', () => {
    expect(choiceReply({ kind: 'subscribe', topic: '留抵退税' })).toContain('已订阅“留抵退税”');
    expect(choiceReply({ kind: 'unsubscribe', topic: '发票' })).toContain('已退订“发票”');
    expect(choiceReply({ kind: 'unsubscribe', topic: null })).toContain('已退订全部通知');
    expect(unknownTopicReply('火星税', ['发票', '留抵退税'])).toBe('没有“火星税”这个主题。可以订阅的主题有：发票、留抵退税。');
  });

  it('lists what a chat receives: all by default, what it turned off, none after 退订 alone unless turned back on', () => {
    const topics = ['发票', '留抵退税', '社保费'];
    expect(topicsReply(new Map(), topics)).toContain('您接收全部主题的通知');
    expect(topicsReply(new Map([['发票', false]]), topics)).toBe('正在接收：留抵退税、社保费。已退订：发票。');
    expect(topicsReply(new Map([[ALL_TOPICS, false]]), topics)).toContain('您已退订全部通知');
    expect(topicsReply(new Map([[ALL_TOPICS, false], ['留抵退税', true]]), topics)).toBe('正在接收：留抵退税。已退订：发票、社保费。');
  });

  it('says what became of a code', () => {
    const at = (d: Date): string => d.toISOString();
    expect(bindReply({ ok: true, name: '济南甲制造有限公司' }, at)).toContain('绑定成功：本聊天已关联纳税人“济南甲制造有限公司”');
    expect(bindReply({ ok: false, reason: 'unknown' }, at)).toContain('绑定码不正确');
    expect(bindReply({ ok: false, reason: 'expired' }, at)).toContain('已过期');
    expect(bindReply({ ok: false, reason: 'used' }, at)).toContain('已经用过了');
    expect(bindReply({ ok: false, reason: 'limited', retryAt: new Date('2026-11-29T03:00:00Z') }, at)).toContain('2026-11-29T03:00:00.000Z 之后再试');
  });
});
