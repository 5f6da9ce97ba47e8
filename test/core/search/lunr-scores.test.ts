import lunr from 'lunr';
import { describe, expect, it } from 'vitest';
import { LunrScores } from '../../../src/core/search/lunr-scores.js';

function buildIndex(docs: { id: string; title: string; body: string }[]): lunr.Index {
  const builder = new lunr.Builder();
  builder.pipeline.reset();
  builder.searchPipeline.reset();
  builder.ref('id');
  builder.field('title', { boost: 3 });
  builder.field('body');
  for (const d of docs) builder.add(d);
  return builder.build();
}

/** What lunr's own query gives for exact terms with boosts. */
function lunrQuery(index: lunr.Index, terms: Map<string, number>): { ref: string; score: number; matched: string[] }[] {
  return index
    .query((q) => {
      for (const [term, boost] of terms) q.term(term, { boost, usePipeline: false });
    })
    .map((r) => ({ ref: r.ref, score: r.score, matched: Object.keys(r.matchData.metadata).sort() }));
}

describe('LunrScores', () => {
  const docs = [
    { id: 'refund', title: '留抵 退税 申请', body: '纳税人 申请 增值税 留抵 退税 电子税务局 退税' },
    { id: 'red', title: '发票 红字', body: '开具 红字 发票 信息表 留抵' },
    { id: 'iit', title: '个税 汇算', body: '综合 所得 年度 汇算 退税 补税 申请' },
    { id: 'cancel', title: '注销 登记', body: '清税 注销 申请 发票 缴销' },
  ];
  const index = buildIndex(docs);
  const scores = new LunrScores(index);

  it('ranks and scores as lunr does, with the terms each document matched', () => {
    const queries: Map<string, number>[] = [
      new Map([['留抵', 2.5], ['退税', 1.2]]),
      new Map([['发票', 0.7], ['红字', 3], ['没有的词', 9]]),
      new Map([['申请', 1]]),
      new Map([['汇算', 2], ['留抵', 0.3], ['申请', 1.1], ['信息表', 4], ['注销', 0.01]]),
      new Map([['没有的词', 1]]),
    ];
    for (const terms of queries) {
      const ours = scores.search(terms);
      const theirs = lunrQuery(index, terms);
      expect(ours.map((r) => r.ref)).toEqual(theirs.map((r) => r.ref));
      ours.forEach((r, i) => {
        expect(r.score).toBeCloseTo(theirs[i]!.score, 12);
        expect([...r.matched].sort()).toEqual(theirs[i]!.matched);
      });
    }
    expect(scores.search(new Map([['留抵', 1]])).map((r) => r.ref).sort()).toEqual(['red', 'refund']);
    expect(scores.search(new Map([['没有的词', 1]]))).toEqual([]);
  });
});
