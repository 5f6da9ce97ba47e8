import { describe, expect, it } from 'vitest';
import { rankTopics } from '../../../src/core/insight/board.js';
import { groupId, groupQuestions, questionKey, type KeyCount } from '../../../src/core/insight/inbox.js';

const at = (day: number): Date => new Date(Date.UTC(2026, 10, day));
const key = (k: string, count: number, first: number, last: number): KeyCount => ({ key: k, count, firstAt: at(first), lastAt: at(last) });

describe('questionKey', () => {
  it('is the unique content words, sorted, so word order and repeats do not matter', () => {
    expect(questionKey(['发票', '丢失', '发票'])).toBe('丢失 发票');
    expect(questionKey(['丢失', '发票'])).toBe(questionKey(['发票', '丢失']));
    expect(questionKey([])).toBeNull();
  });
});

describe('groupQuestions', () => {
  it('joins keys sharing at least half their words, largest group first, then newest', () => {
    const groups = groupQuestions([
      key('丢失 发票', 5, 1, 20),
      key('丢失 发票 补办', 2, 3, 25),
      key('契税 退', 3, 2, 24),
      key('契税 退 二手房', 1, 5, 5),
      key('社保 断缴', 3, 1, 26),
    ]);
    expect(groups.map((g) => [g.keys, g.count, g.firstAt, g.lastAt])).toEqual([
      [['丢失 发票', '丢失 发票 补办'], 7, at(1), at(25)],
      [['契税 退', '契税 退 二手房'], 4, at(2), at(24)],
      [['社保 断缴'], 3, at(1), at(26)],
    ]);
    // The id is the hash of the most asked key, so it stays while that key leads.
    expect(groups[0]?.id).toBe(groupId('丢失 发票'));
    expect(groups[0]?.id).toMatch(/^[0-9a-f]{16}$/);
  });

  it('keeps apart keys sharing only a common word', () => {
    const groups = groupQuestions([key('发票 丢失', 2, 1, 1), key('发票 红冲 开错', 2, 1, 2), key('发票 额度 提高', 2, 1, 3)]);
    expect(groups).toHaveLength(3);
  });
});

describe('rankTopics', () => {
  it('adds up the rolled and live parts and ranks by count, then by rise', () => {
    const rows = rankTopics([[{ id: 'a', count: 2, previous: 1 }, { id: 'b', count: 3, previous: 5 }], [{ id: 'a', count: 1, previous: 0 }, { id: 'c', count: 0, previous: 2 }]], (id) => `标题${id}`);
    expect(rows).toEqual([
      { id: 'a', title: '标题a', count: 3, previous: 1, change: 2 },
      { id: 'b', title: '标题b', count: 3, previous: 5, change: -2 },
      { id: 'c', title: '标题c', count: 0, previous: 2, change: -2 },
    ]);
  });
});
