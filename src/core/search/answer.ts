import type { Entry } from './types.js';

/** A close entry offered when the bot is not sure. */
export interface Suggestion {
  readonly id: string;
  readonly title: string;
  readonly score: number;
}

/** A statute article backing an answer. */
export interface Citation {
  readonly id: string;
  readonly title: string;
}

/**
 * Why the bot answers or not: `answered`; `referred` (answered with whom to turn to: another
 * authority handles it); `uncertain` (close entries, none sure: suggestions); `no_match` (nothing
 * relevant: out of scope); `small_talk` (greetings, thanks); `empty` (no words at all).
 */
export type Reason = 'answered' | 'referred' | 'uncertain' | 'no_match' | 'small_talk' | 'empty';

/** The decision for one question: the shape of one `chunfeng ask --json` line and of `POST /api/ask`. */
export interface Answer {
  readonly q: string;
  readonly answered: boolean;
  readonly id: string | null;
  readonly title: string | null;
  readonly score: number;
  readonly answer: string | null;
  readonly suggestions: Suggestion[];
  readonly reason: Reason;
  readonly kind: Entry['kind'] | null;
  readonly category: string | null;
  readonly sources: string[];
  readonly citations: Citation[];
}

/** Rounds a figure shown to people and scripts to three decimals. */
export function round(n: number): number {
  return Math.round(n * 1000) / 1000;
}

/** The answer given with one entry (a referral entry refers). */
export function answerWith(q: string, entry: Entry, score: number, citations: Citation[]): Answer {
  return {
    q, answered: true, id: entry.id, title: entry.title, score: round(score), answer: entry.answer, suggestions: [],
    reason: entry.kind === 'referral' ? 'referred' : 'answered',
    kind: entry.kind, category: entry.category, sources: [...entry.sources], citations,
  };
}

/** No answer, for the reason given, with the entries offered instead. */
export function noAnswer(q: string, reason: Reason, suggestions: Suggestion[]): Answer {
  return { q, answered: false, id: null, title: null, score: 0, answer: null, suggestions, reason, kind: null, category: null, sources: [], citations: [] };
}
