import { round, type Suggestion } from './answer.js';
import type { Hit } from './faq-ranking.js';

/** What is known of the question as a whole when its candidates are weighed. */
export interface QuestionFigures {
  /** Share of the question's weight in words the knowledge never uses. */
  readonly unknownShare: number;
  /** Number of distinct stretches of words. */
  readonly terms: number;
}

/**
 * The figures of a candidate that its score is made of, each with a plain meaning: how much of the
 * question the entry holds (anywhere, and where it says what it is about), how much of one of the
 * entry's own phrasings the question holds, its ranking score against the best candidate's, and how
 * much evidence there is.
 */
export const CANDIDATE_FEATURES = ['coverage', 'aboutness', 'phrasing', 'relative', 'evidence'] as const;

/** The figures of the question that make "none of them" more or less likely: its unknown share and its length. */
export const QUESTION_FEATURES = ['unknown', 'length'] as const;

/**
 * A choice model over the candidates and "none of them": each candidate scores the weighted sum of
 * its figures, "none" scores `none` plus the weighted figures of the question, and the chances are
 * the softmax of the scores. Candidates that look alike share the chance between them, so a bare
 * 留抵退税 makes no single one of the five 留抵退税 entries likely: the user is asked to pick.
 * Fitted with `node bench/fit-decision.js` on our own question sets (never on the held-out one).
 */
export interface Confidence {
  readonly candidate: Readonly<Record<(typeof CANDIDATE_FEATURES)[number], number>>;
  readonly question: Readonly<Record<(typeof QUESTION_FEATURES)[number], number>>;
  /** The score of "none of them" before the question's figures. */
  readonly none: number;
  /** Answer with the most likely candidate from this chance on. */
  readonly answerAt: number;
  /** Offer a candidate as a suggestion from this chance on. */
  readonly suggestAt: number;
}

/**
 * The fitted defaults (bench/fit-decision.js on own, tune, dev and real, 138 entries). The weights are
 * the fit's; the chance to answer from is set where the sets' right answers still hold (dev 92.6%,
 * own 73.9%, tune 85.4%) and wrong answers fall everywhere (real questions 8.4%, from 15.5% at 0.4):
 * the fit's own choice at a wrong-answer cost of 5 (0.74) would decline a quarter of what dev answers.
 */
export const DEFAULT_CONFIDENCE: Confidence = {
  candidate: { coverage: -0.92, aboutness: 4.464, phrasing: 3.389, relative: 3.685, evidence: 1.407 },
  question: { unknown: -0.925, length: -0.854 },
  none: 10.632,
  answerAt: 0.6,
  suggestAt: 0.05,
};

const MAX_SUGGESTIONS = 3;
/** How many of the ranked candidates are weighed. */
const WEIGHED = 5;
/** A question holding all of one of an entry's phrasings and nothing else is that phrasing. */
const SAME_PHRASING = 0.999;

/** The figures of each weighed candidate, in {@link CANDIDATE_FEATURES} order. */
export function candidateFigures(hits: readonly Hit[]): number[][] {
  const weighed = hits.slice(0, WEIGHED);
  const top = Math.max(Number.MIN_VALUE, ...weighed.map((h) => h.score));
  return weighed.map((h) => [h.coverage, h.aboutness, h.phrasing, h.score / top, Math.log1p(h.evidence)]);
}

/** The question's figures, in {@link QUESTION_FEATURES} order. */
export function questionFigures(question: QuestionFigures): number[] {
  return [question.unknownShare, Math.log1p(question.terms)];
}

/** The chance of each weighed candidate (in rank order), the rest being the chance of none of them. */
export function chances(model: Confidence, candidates: readonly (readonly number[])[], question: readonly number[]): number[] {
  const score = (weights: Readonly<Record<string, number>>, names: readonly string[], figures: readonly number[]): number =>
    names.reduce((sum, name, i) => sum + (weights[name] as number) * (figures[i] as number), 0);
  const scores = candidates.map((f) => score(model.candidate, CANDIDATE_FEATURES, f));
  const none = model.none + score(model.question, QUESTION_FEATURES, question);
  const top = Math.max(none, ...scores);
  const exps = scores.map((s) => Math.exp(s - top));
  const total = exps.reduce((sum, e) => sum + e, Math.exp(none - top));
  return exps.map((e) => e / total);
}

/** What the decision made of the ranked candidates: the entry to answer with, or those to offer. */
export interface Decided {
  readonly answer: Hit | null;
  /** The chance of the answer, or of the most likely candidate when there is none. */
  readonly confidence: number;
  readonly suggestions: Suggestion[];
}

/** A candidate offered as a suggestion. */
export function toSuggestion(h: Hit): Suggestion {
  return { id: h.entry.id, title: h.entry.title, score: round(h.score) };
}

/**
 * Decides between answering with the most likely candidate and offering the likely ones. A
 * question that is one of an entry's own phrasings (after normalisation: the same terms, all of
 * them) is answered with that entry whatever neighbours share its words; a bare word that several
 * entries are wholly about gets the likely ones to pick from.
 */
export function decide(hits: readonly Hit[], question: QuestionFigures, model: Confidence): Decided {
  if (hits.length === 0) return { answer: null, confidence: 0, suggestions: [] };
  const ps = chances(model, candidateFigures(hits), questionFigures(question));
  const ranked = ps.map((p, i) => ({ hit: hits[i] as Hit, p })).sort((a, b) => b.p - a.p);
  const best = ranked[0] as { hit: Hit; p: number };
  const exact = ranked.find((c) => c.hit.phrasing >= SAME_PHRASING && c.hit.similarity >= SAME_PHRASING);
  if (exact) return { answer: exact.hit, confidence: exact.p, suggestions: [] };
  // One word that several entries are wholly about (注销, 发票) names a topic, not a question.
  const topic = question.terms === 1 && hits.filter((h) => h.aboutness >= SAME_PHRASING).length > 1;
  if (best.p >= model.answerAt && !topic) return { answer: best.hit, confidence: best.p, suggestions: [] };
  const offered = ranked.filter((c) => c.p >= model.suggestAt).slice(0, MAX_SUGGESTIONS).map((c) => toSuggestion(c.hit));
  return { answer: null, confidence: best.p, suggestions: offered };
}
