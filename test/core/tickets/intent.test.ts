import { describe, expect, it } from 'vitest';
import { confirmsOffer, intentOf, ratingOf } from '../../../src/core/tickets/intent.js';

describe('intentOf: asking for a person', () => {
  it.each([
    '转人工', '人工', '人工客服', '/human', '找工作人员', '我要找真人', '能不能让工作人员回我', '请帮我转人工', '有人工吗', '找个人工',
    '麻烦联系工作人员', '客服在吗', '能不能找人帮我看看', '我要找人', '转接人工服务',
  ])('%s', (text) => {
    expect(intentOf(text)).toEqual({ kind: 'human' });
  });
});

describe('intentOf: a complaint or a report', () => {
  it.each([
    ['我要投诉', '服务质效类'],
    ['投诉：大厅窗口的工作人员态度很差', '服务态度类'],
    ['你们窗口的人态度太差了', '服务态度类'],
    ['我要举报某公司虚开发票', '服务质效类'],
    ['对这次服务不满意', '服务质效类'],
    ['办个税务注销跑了三次还办不了，我要投诉', '服务质效类'],
    ['税务所的人向我索要好处，我要举报', '侵害权益类'],
  ] as const)('%s -> %s', (text, category) => {
    expect(intentOf(text)).toEqual({ kind: 'complaint', category });
  });
});

describe('intentOf: questions that only mention the words stay questions for the FAQ', () => {
  it.each(['投诉渠道有哪些', '怎么举报虚开发票', '投诉电话是多少', '举报偷税有奖励吗', '对税务局服务不满意去哪投诉', '投诉了多久会有回复', '人工智能会取代会计吗'])('%s', (text) => {
    expect(intentOf(text)).toBeNull();
  });

  it('leaves ordinary questions alone', () => {
    for (const text of ['发票丢了怎么办', '留抵退税怎么申请', '个人所得税汇算什么时候截止']) expect(intentOf(text)).toBeNull();
  });
});

describe('intentOf: the state of one\'s ticket and reopening it', () => {
  it.each(['查询工单', '我的工单', '工单进度怎么样了', '查一下工单'])('%s is a status request', (text) => {
    expect(intentOf(text)).toEqual({ kind: 'status' });
  });

  it.each(['还没解决', '问题没解决啊', '重新打开'])('%s asks to reopen', (text) => {
    expect(intentOf(text)).toEqual({ kind: 'reopen' });
  });
});

describe('confirmsOffer and ratingOf', () => {
  it('reads a confirmation of the offer of a person', () => {
    for (const yes of ['是', '好的', '转人工', '1', '确认', '要']) expect(confirmsOffer(yes)).toBe(true);
    for (const no of ['不用了', '发票丢了怎么办', '2']) expect(confirmsOffer(no)).toBe(false);
  });

  it('reads a rating as a digit or in words', () => {
    expect(ratingOf('1')).toBe(1);
    expect(ratingOf('２')).toBe(2);
    expect(ratingOf('不满意')).toBe(3);
    expect(ratingOf('非常满意！')).toBe(1);
    expect(ratingOf('发票丢了')).toBeNull();
  });
});
