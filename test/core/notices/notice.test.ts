import { describe, expect, it } from 'vitest';
import { checkNotice, type NoticeContext } from '../../../src/core/notices/notice.js';
import type { Entry } from '../../../src/core/search/types.js';

const entry = (id: string, fields: Partial<Entry> = {}): Entry => ({
  id, kind: 'faq', title: `标题 ${id}`, category: '留抵退税', questions: [], keywords: [], answer: `答案 ${id}`, sources: ['某公告'],
  validFrom: null, validUntil: null, audience: {}, related: [], file: `${id}.md`, ...fields,
});
const ENTRIES = [
  entry('refund', { audience: { taxpayerType: ['企业'], credit: ['A', 'B'] } }),
  entry('expired', { validUntil: '2025-12-31' }),
  entry('referral', { kind: 'referral', category: '转办' }),
  entry('bad-tags', { audience: { size: ['大'] } }),
];
const context: NoticeContext = { entry: (id) => ENTRIES.find((e) => e.id === id), topics: new Set(['留抵退税', '发票']), today: '2026-11-22' };

describe('checking a notice', () => {
  it('makes a draft with the entries copied and their tags read', () => {
    const checked = checkNotice({ title: ' 增值税留抵退税政策提醒 ', text: '请符合条件的企业及时申请。', entries: ['refund'], audience: { credit: ['A'] }, topics: ['留抵退税'], reminders: [{ afterHours: 48 }, { afterHours: 96, text: '再次提醒' }] }, context);
    expect(checked).toEqual({
      ok: true,
      draft: {
        title: '增值税留抵退税政策提醒', text: '请符合条件的企业及时申请。', audience: { credit: ['A'] }, topics: ['留抵退税'],
        reminders: [{ afterHours: 48, text: null }, { afterHours: 96, text: '再次提醒' }],
        items: [{ entryId: 'refund', title: '标题 refund', category: '留抵退税', body: '答案 refund', sources: ['某公告'], audience: { taxpayerType: ['一般纳税人', '小规模纳税人'], credit: ['A', 'B'] } }],
      },
    });
  });

  it('lists every problem: texts, audience, entries, topics and reminders', () => {
    const checked = checkNotice({
      title: '  ', text: '正'.repeat(1501), audience: { credit: ['E'] }, entries: ['refund', 'refund', 'nope', 'expired', 'referral', 'bad-tags'], topics: ['天气'],
      reminders: [{ afterHours: 48 }, { afterHours: 24 }, { afterHours: 0 }, { afterHours: 100 }],
    }, context);
    expect(checked).toEqual({
      ok: false,
      errors: [
        '标题不能为空',
        '正文太长，最多 1500 个字',
        '信用等级：应为 A、B、M、C、D 之一（可以不填），现为“E”',
        '条目 refund 重复',
        '没有条目 nope',
        '条目 expired（标题 expired）已不在有效期内',
        '条目 referral（标题 referral）是转办条目，不能放进政策包',
        '条目 bad-tags（标题 bad-tags）的推送对象标签有误：不认识的发送对象字段 size（可用：taxpayerType、industry、credit、office、region、tags），请先修改知识库',
        '不认识的主题“天气”（主题即知识库的分类，如 留抵退税、发票）',
        '提醒最多 3 轮',
        '第 2 轮提醒：应晚于上一轮',
        '第 3 轮提醒：应在发送后 1-720 小时之间（整数）',
      ],
    });
  });
});
