import { round, type Suggestion } from './answer.js';
import type { Hit } from './faq-ranking.js';

/**
 * When the bot answers. Two ways to be sure of the best entry: a short question nearly all of whose
 * words it contains, well ahead of the runner-up; or a longer message (a story, group-chat context)
 * in which it finds a lot of evidence, ahead of the runner-up at all. Tuned on our own question set
 * (test/eval/own.jsonl) and checked on the public dev set; see the issue note for the figures.
 */
export interface Thresholds {
  /** Path 1: share of the question's weighted terms the entry must contain... */
  readonly sureCoverage: number;
  /** ...and its lead over the runner-up, (best - second) / best on the ranking score. */
  readonly sureLead: number;
  /** Path 2: weight of the question's terms found in the entry (idf units)... */
  readonly evidence: number;
  /** ...with at least this share of the question... */
  readonly evidenceCoverage: number;
  /** ...and this lead. */
  readonly evidenceLead: number;
  /** Weight an entry must share with the question to be offered as a suggestion. */
  readonly suggestEvidence: number;
}

/** The tuned defaults. */
export const DEFAULT_THRESHOLDS: Thresholds = {
  sureCoverage: 0.7, sureLead: 0.2, evidence: 7, evidenceCoverage: 0.2, evidenceLead: 0.1, suggestEvidence: 2,
};

const MAX_SUGGESTIONS = 3;

/** What the decision made of the ranked candidates: the entry to answer with, or those to offer. */
export interface Decided {
  readonly answer: Hit | null;
  readonly suggestions: Suggestion[];
}

/** A candidate offered as a suggestion. */
export function toSuggestion(h: Hit): Suggestion {
  return { id: h.entry.id, title: h.entry.title, score: round(h.score) };
}

/** Decides between answering with the best candidate and offering the close ones. */
export function decide(hits: readonly Hit[], t: Thresholds): Decided {
  const [best, second] = hits;
  if (!best) return { answer: null, suggestions: [] };
  const lead = second && best.score > 0 ? (best.score - second.score) / best.score : 1;
  const sure =
    (best.coverage >= t.sureCoverage && lead >= t.sureLead) ||
    (best.evidence >= t.evidence && best.coverage >= t.evidenceCoverage && lead >= t.evidenceLead);
  if (sure) return { answer: best, suggestions: [] };
  // A bare topic word (发票, 个税) carries little weight but is wholly contained in the entries about it.
  const close = hits.filter((h) => h.evidence >= t.suggestEvidence || h.coverage >= 1);
  return { answer: null, suggestions: close.slice(0, MAX_SUGGESTIONS).map(toSuggestion) };
}
