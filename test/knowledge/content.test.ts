import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { beforeAll, describe, expect, it } from 'vitest';
import { percent, score, type EvalCase, type EvalReport } from '../../src/core/eval/score.js';
import type { SearchIndex } from '../../src/core/search/index.js';
import { loadKnowledge } from '../../src/knowledge/load.js';
import { REAL_KNOWLEDGE, ROOT, SHARED, readCases, realKnowledgeIndex } from '../helpers/knowledge.js';

const TOPICS = join(SHARED, 'spec', 'topics.yaml');
const DEV = join(SHARED, 'eval', 'dev.jsonl');
const OWN = join(ROOT, 'test', 'eval', 'own.jsonl');
const skipped = (path: string): string => (existsSync(path) ? '' : ` (skipped: ${path} not found)`);

let index: SearchIndex;
beforeAll(() => {
  index = realKnowledgeIndex();
});

/** Scores the real index on an evaluation file the way `chunfeng eval` does. */
function evaluate(cases: readonly EvalCase[]): EvalReport {
  return score(cases, cases.map((c) => index.ask(c.q)), (id) => index.entry(id));
}

/** The figures as shares, with the misses in the failure message. */
function figures(r: EvalReport): { top1: number; top3: number; rejection: number; summary: string } {
  const { inScope: s, outOfScope: o } = r;
  const summary = `top-1 ${percent(s.top1, s.total)}, top-3 ${percent(s.top3, s.total)}, rejection ${percent(o.rejected, o.total)}; misses:\n${r.misses
    .map((m) => `  ${m.q} -> expected ${m.expected}, got ${m.got} [${m.suggestions.join(', ')}]`)
    .join('\n')}`;
  return { top1: s.top1 / s.total, top3: s.top3 / s.total, rejection: o.rejected / o.total, summary };
}

describe(`the knowledge covers every topic of the specification${skipped(TOPICS)}`, () => {
  it.skipIf(!existsSync(TOPICS))('has an entry with the id and category of each topic in topics.yaml', () => {
    const topics = (parse(readFileSync(TOPICS, 'utf8')) as { topics: { id: string; category: string }[] }).topics;
    expect(topics.length).toBeGreaterThan(30);
    const entries = new Map(index.entries.map((e) => [e.id, e]));
    const wrong = topics.filter((t) => entries.get(t.id)?.category !== t.category || entries.get(t.id)?.kind !== 'faq');
    expect(wrong.map((t) => `${t.id} (${t.category}): ${entries.has(t.id) ? `category ${entries.get(t.id)?.category}` : 'missing'}`)).toEqual([]);
  });
});

describe('the real knowledge is clean', () => {
  it('kb lint finds nothing: no errors, no warnings', () => {
    const findings = loadKnowledge(REAL_KNOWLEDGE, []).findings;
    expect(findings.map((f) => `${f.file}:${f.line}: ${f.message}`)).toEqual([]);
  });

  it('every FAQ answer names where to get it done and every entry cites a source', () => {
    for (const e of index.entries) {
      expect(e.sources.length, e.id).toBeGreaterThan(0);
      if (e.kind === 'faq') expect(e.answer, e.id).toMatch(/电子税务局|个人所得税app|办税服务厅|12366|app|自助办税终端|主管税务机关/iu);
    }
  });
});

/** Asserts that the index scores at least `floors` on the questions of `file`. */
function expectFloors(file: string, minCases: number, floors: { top1: number; top3: number; rejection: number }): void {
  const cases = readCases(file);
  expect(cases.length).toBeGreaterThan(minCases);
  const f = figures(evaluate(cases));
  expect(f.top1, f.summary).toBeGreaterThanOrEqual(floors.top1);
  expect(f.top3, f.summary).toBeGreaterThanOrEqual(floors.top3);
  expect(f.rejection, f.summary).toBeGreaterThanOrEqual(floors.rejection);
}

describe.skipIf(!existsSync(DEV))(`evaluation floors on the public dev set${skipped(DEV)}`, () => {
  // The decision trades a few answers for fewer wrong ones (src/core/search/decision.ts): dev top-1
  // 92.6%, wrong answers 1.6% when these floors were set.
  it('top-1 >= 90%, top-3 >= 97%, out-of-scope rejection >= 95%', () => {
    expectFloors(DEV, 100, { top1: 0.9, top3: 0.97, rejection: 0.95 });
  });
});

describe('evaluation floors on our own generalisation set (test/eval/own.jsonl)', () => {
  // Floors a few points under the figures when they were set (top-1 73.9%, top-3 88.3%, rejection
  // 100%), so that a regression fails while tuning noise does not.
  it('top-1 >= 70%, top-3 >= 85%, out-of-scope rejection >= 95%', () => {
    expectFloors(OWN, 150, { top1: 0.7, top3: 0.85, rejection: 0.95 });
  });

  it('every expected topic of our set is an entry of the knowledge', () => {
    const unknown = readCases(OWN).filter((c) => c.topic !== null && !index.entry(c.topic)).map((c) => `${c.topic}: ${c.q}`);
    expect(unknown).toEqual([]);
  });
});
