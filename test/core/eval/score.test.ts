import { describe, expect, it } from 'vitest';
import { score, type EvalCase } from '../../../src/core/eval/score.js';
import type { Answer } from '../../../src/core/search/index.js';

function answered(q: string, id: string): Answer {
  return { q, answered: true, id, title: id, score: 1, answer: '……', suggestions: [], reason: 'answered', kind: 'faq', category: '发票', sources: [], citations: [] };
}

function declined(q: string, suggestions: string[] = []): Answer {
  return {
    q, answered: false, id: null, title: null, score: 0, answer: null, suggestions: suggestions.map((id) => ({ id, title: id, score: 1 })),
    reason: suggestions.length ? 'uncertain' : 'no_match', kind: null, category: null, sources: [], citations: [],
  };
}

describe('score', () => {
  const cases: EvalCase[] = [
    { q: '发票丢了', topic: 'invoice-lost', style: 'typo' },
    { q: '发票开错了', topic: 'invoice-red-letter', style: 'typo' },
    { q: '数电票', topic: 'invoice-digital', style: 'keywords' },
    { q: '契税多少', topic: null, style: 'adjacent' },
    { q: '公积金提取', topic: null, style: 'adjacent' },
  ];
  const answers = [
    answered('发票丢了', 'invoice-lost'),
    answered('发票开错了', 'invoice-lost'),
    declined('数电票', ['invoice-ukey', 'invoice-digital']),
    answered('契税多少', 'vehicle-purchase-tax'),
    declined('公积金提取'),
  ];
  const report = score(cases, answers, (id) => (id.startsWith('invoice-') ? { category: '发票', kind: 'faq' } : undefined));

  it('counts an answer with another entry, and any answer to an out-of-scope question, as wrong', () => {
    expect(report.overall).toEqual({ total: 5, top1: 2, top3: 3, wrong: 2, referred: 0, declined: 2 });
    expect(report.inScope).toEqual({ total: 3, top1: 1, top3: 2, wrong: 1, referred: 0, declined: 1 });
    expect(report.outOfScope).toEqual({ total: 2, rejected: 1 });
  });

  it('reports wrong answers per style, declines counting as right where the question is out of scope', () => {
    expect(report.byStyle.typo).toEqual({ total: 2, top1: 1, top3: 1, wrong: 1, referred: 0, declined: 0 });
    expect(report.byStyle.keywords).toEqual({ total: 1, top1: 0, top3: 1, wrong: 0, referred: 0, declined: 1 });
    expect(report.byStyle.adjacent).toEqual({ total: 2, top1: 1, top3: 1, wrong: 1, referred: 0, declined: 1 });
  });

  it('scores a question whose entry the knowledge lacks as one to decline, and counts it', () => {
    const r = score([{ q: '契税多少', topic: 'deed-tax-rates' }], [declined('契税多少')], () => undefined);
    expect(r.missingEntries).toBe(1);
    expect(r.outOfScope).toEqual({ total: 1, rejected: 1 });
    expect(r.overall.wrong).toBe(0);
  });

  it('counts a referral as right when it is the expected entry, and as no wrong answer to an out-of-scope question', () => {
    const referral = (q: string, id: string): Answer => ({ ...answered(q, id), kind: 'referral', reason: 'referred' });
    const info = (id: string): { category: string; kind: 'referral' } | undefined => (id === 'referral-bookkeeping' ? { category: '转办', kind: 'referral' } : undefined);
    const r = score(
      [{ q: '会计分录怎么做', topic: 'referral-bookkeeping', area: 'bookkeeping' }, { q: '公积金怎么取', topic: null, area: 'other' }],
      [referral('会计分录怎么做', 'referral-bookkeeping'), referral('公积金怎么取', 'referral-bookkeeping')],
      info,
    );
    expect(r.overall).toEqual({ total: 2, top1: 2, top3: 2, wrong: 0, referred: 2, declined: 0 });
    expect(r.byArea.bookkeeping?.top1).toBe(1);
    expect(r.outOfScope.rejected).toBe(1);
  });

  it('lists every question not handled right among the misses', () => {
    expect(report.misses.map((m) => m.q)).toEqual(['发票开错了', '数电票', '契税多少']);
  });
});
