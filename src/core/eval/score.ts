import type { Answer } from '../search/index.js';
import type { EntryKind } from '../search/types.js';

/** One line of an evaluation file: a question and the entry that should answer it (null: decline). */
export interface EvalCase {
  readonly q: string;
  readonly topic: string | null;
  readonly style?: string;
  /** The subject area a question comes from (property, invoice ...), for reports by area. */
  readonly area?: string;
}

/**
 * Counts for one slice of the questions. For a question the bot should answer, `top1` counts the
 * right answer and `top3` the right entry answered or offered; for one it should decline, both count
 * the decline. `wrong` counts answers that are not the expected entry: another entry for an in-scope
 * question, any answer of ours for an out-of-scope one. A taxpayer acts on a wrong answer: it is the
 * figure to drive down. `referred` counts answers that point to another authority (referral entries),
 * `declined` questions given no answer at all.
 */
export interface Tally {
  total: number;
  top1: number;
  top3: number;
  wrong: number;
  referred: number;
  declined: number;
}

/** The figures `chunfeng eval` reports. */
export interface EvalReport {
  readonly inScope: Tally;
  readonly outOfScope: { total: number; rejected: number };
  /** Every question: `top1` is right answers plus right declines, `wrong` every wrong answer. */
  readonly overall: Tally;
  readonly byCategory: Record<string, Tally>;
  readonly byStyle: Record<string, Tally>;
  readonly byArea: Record<string, Tally>;
  /** Questions whose expected entry is not in the knowledge: scored as questions to decline. */
  missingEntries: number;
  readonly misses: { q: string; expected: string | null; got: string | null; suggestions: string[] }[];
}

/** What the scoring needs to know of an entry. */
export interface EntryInfo {
  readonly category: string;
  readonly kind: EntryKind;
}

function tally(): Tally {
  return { total: 0, top1: 0, top3: 0, wrong: 0, referred: 0, declined: 0 };
}

/**
 * Scores answers against expectations. Top-1: the bot answered, with the expected entry. Top-3: the
 * expected entry is the answer or among the (up to three) suggestions. Out-of-scope rejection: a
 * question with topic null got no answer of ours (none, or a referral to another authority). Wrong:
 * answered, but not with the expected entry (a referral to an out-of-scope question is not wrong).
 * A question whose entry the knowledge lacks can only be declined rightly: it is scored as one to
 * decline and counted in `missingEntries`.
 */
export function score(cases: readonly EvalCase[], answers: readonly Answer[], entryOf: (id: string) => EntryInfo | undefined): EvalReport {
  const report: EvalReport = {
    inScope: tally(), outOfScope: { total: 0, rejected: 0 }, overall: tally(), byCategory: {}, byStyle: {}, byArea: {}, missingEntries: 0, misses: [],
  };
  cases.forEach((c, i) => {
    const a = answers[i] as Answer;
    const expected = c.topic !== null ? entryOf(c.topic) : undefined;
    if (c.topic !== null && !expected) report.missingEntries++;
    const inScope = expected !== undefined;
    const referred = a.answered && a.kind === 'referral';
    const top1 = inScope ? a.answered && a.id === c.topic : !a.answered || referred;
    const top3 = top1 || (inScope && !a.answered && a.suggestions.some((s) => s.id === c.topic));
    const wrong = a.answered && !top1;
    const slices = [report.overall];
    if (inScope) slices.push(report.inScope, (report.byCategory[expected.category] ??= tally()));
    else {
      report.outOfScope.total++;
      if (top1) report.outOfScope.rejected++;
    }
    if (c.style) slices.push((report.byStyle[c.style] ??= tally()));
    if (c.area) slices.push((report.byArea[c.area] ??= tally()));
    for (const t of slices) {
      t.total++;
      if (top1) t.top1++;
      if (top3) t.top3++;
      if (wrong) t.wrong++;
      if (referred) t.referred++;
      if (!a.answered) t.declined++;
    }
    if (!top1) report.misses.push({ q: c.q, expected: inScope ? c.topic : null, got: a.id, suggestions: a.suggestions.map((s) => s.id) });
  });
  return report;
}

/** A share as a percentage with one decimal, or a dash when there is nothing to divide. */
export function percent(part: number, whole: number): string {
  return whole === 0 ? '-' : `${((100 * part) / whole).toFixed(1)}%`;
}
