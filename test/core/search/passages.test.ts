import { describe, expect, it } from 'vitest';
import { PassageIndex } from '../../../src/core/search/passages.js';

// Three "statutes": documents 0-1, 2-3 and 4.
const DOCS = [
  ['纳税人', '多缴', '税款', '退还'],
  ['纳税人', '申报', '期限'],
  ['发票', '丢失', '报告', '发票'],
  ['纳税人', '多缴', '利息'],
  ['车辆', '购置', '税率'],
];

describe('PassageIndex', () => {
  it('ranks the documents containing more, and rarer, query terms first', () => {
    const index = PassageIndex.build(DOCS);
    const hits = index.search(['多缴', '退还'], 0, DOCS.length, 10);
    expect(hits.map((h) => h.doc)).toEqual([0, 3]);
    expect(hits[0]?.evidence).toBeCloseTo(index.idf('多缴') + index.idf('退还'));
    expect(index.idf('纳税人')).toBeLessThan(index.idf('退还'));
  });

  it('searches only within the given range of documents', () => {
    const index = PassageIndex.build(DOCS);
    expect(index.search(['纳税人', '多缴'], 2, 4, 10).map((h) => h.doc)).toEqual([3]);
    expect(index.search(['纳税人'], 4, 5, 10)).toEqual([]);
    expect(index.search(['没有这个词'], 0, 5, 10)).toEqual([]);
  });

  it('answers the same after a round trip through JSON', () => {
    const index = PassageIndex.build(DOCS);
    const loaded = PassageIndex.load(JSON.parse(JSON.stringify(index.toJSON())));
    expect(loaded.size).toBe(DOCS.length);
    for (const q of [['发票', '丢失'], ['纳税人'], ['多缴', '利息']]) expect(loaded.search(q, 0, 5, 10)).toEqual(index.search(q, 0, 5, 10));
  });

  it('limits the number of hits', () => {
    const index = PassageIndex.build(DOCS);
    expect(index.search(['纳税人'], 0, 5, 2)).toHaveLength(2);
  });
});
