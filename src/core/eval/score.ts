import type { Answer } from '../search/index.js';

/** One line of an evaluation file: a question and the entry that should answer it (null: decline). */
export interface EvalCase {
  readonly q: string;
  readonly topic: string | null;
  readonly style?: string;
}

/** Counts for one slice of the questions. */
export interface Tally {
  total: number;
  top1: number;
  top3: number;
}

/** The figures `chunfeng eval` reports. */
export interface EvalReport {
  readonly inScope: Tally;
  readonly outOfScope: { total: number; rejected: number };
  readonly byCategory: Record<string, Tally>;
  readonly byStyle: Record<string, Tally>;
  readonly misses: { q: string; expected: string | null; got: string | null; suggestions: string[] }[];
}

/**
 * Scores answers against expectations. Top-1: the bot answered, with the expected entry. Top-3: the
 * expected entry is the answer or among the (up to three) suggestions. Out-of-scope rejection: a
 * question with topic null got no answer.
 */
export function score(cases: readonly EvalCase[], answers: readonly Answer[], categoryOf: (id: string) => string): EvalReport {
  const report: EvalReport = { inScope: { total: 0, top1: 0, top3: 0 }, outOfScope: { total: 0, rejected: 0 }, byCategory: {}, byStyle: {}, misses: [] };
  cases.forEach((c, i) => {
    const a = answers[i] as Answer;
    const miss = { q: c.q, expected: c.topic, got: a.id, suggestions: a.suggestions.map((s) => s.id) };
    if (c.topic === null) {
      report.outOfScope.total++;
      if (!a.answered) report.outOfScope.rejected++;
      else report.misses.push(miss);
      return;
    }
    const top1 = a.answered && a.id === c.topic;
    const top3 = top1 || (!a.answered && a.suggestions.some((s) => s.id === c.topic));
    const slices = [report.inScope, (report.byCategory[categoryOf(c.topic)] ??= { total: 0, top1: 0, top3: 0 })];
    if (c.style) slices.push((report.byStyle[c.style] ??= { total: 0, top1: 0, top3: 0 }));
    for (const t of slices) {
      t.total++;
      if (top1) t.top1++;
      if (top3) t.top3++;
    }
    if (!top1) report.misses.push(miss);
  });
  return report;
}

/** A share as a percentage with one decimal, or a dash when there is nothing to divide. */
export function percent(part: number, whole: number): string {
  return whole === 0 ? '-' : `${((100 * part) / whole).toFixed(1)}%`;
}
