import lunr from 'lunr';
import type { Analyzer } from '../text/analyze.js';
import { LunrScores } from './lunr-scores.js';
import { bm25Idf } from './passages.js';
import type { Entry } from './types.js';

/** Weight of the closest alternative question in the ranking, next to the lunr score times coverage. */
const QUESTION_SIMILARITY_WEIGHT = 0.6;
/** Policy summaries explain background; when one and a FAQ entry match alike, the FAQ answer leads. */
const POLICY_SUMMARY_FACTOR = 0.8;
/** A word the knowledge never uses counts as this share of the rarest word's weight. */
const UNKNOWN_WORD_SHARE = 0.6;
/** Numbers the knowledge never mentions (a sales figure, a date) are details of a question, not its subject. */
const NUMBER_WEIGHT = 0.2;
/** Field boosts: a word in the title or the alternative questions says more than one in the answer. */
const FAQ_FIELDS = { title: 3, questions: 2, keywords: 2, answer: 1 } as const;
/** Candidates re-ranked per question. */
const CANDIDATES = 10;

/** One candidate entry for a question, with the figures the decision reads. */
export interface Hit {
  readonly entry: Entry;
  /** The ranking score: lunr's score (relative to the best) times coverage, plus question similarity. */
  readonly score: number;
  /** Share of the question's weighted terms found in the entry. */
  readonly coverage: number;
  /** Weight of the question's terms found in the entry. */
  readonly evidence: number;
  /** Weighted cosine between the question and the closest of the entry's title and alternative questions. */
  readonly similarity: number;
}

/** The terms of one way of asking for an entry, and the sum of their squared weights. */
interface Phrasing {
  readonly terms: ReadonlySet<string>;
  readonly norm: number;
}

/** Weighted cosine similarity of a question's terms (with their weights and its norm) and a phrasing. */
function cosine(question: ReadonlyMap<string, number>, norm: number, phrasing: Phrasing): number {
  if (norm === 0 || phrasing.norm === 0) return 0;
  let shared = 0;
  for (const [t, w] of question) if (phrasing.terms.has(t)) shared += w * w;
  return shared / Math.sqrt(norm * phrasing.norm);
}

/** Builds the lunr index of FAQ entries and policy summaries over the analyzer's terms. */
export function buildFaqIndex(entries: readonly Entry[], analyzer: Analyzer): lunr.Index {
  const terms = (text: string): string[] => analyzer.terms(analyzer.analyze(text).normalized);
  const builder = new lunr.Builder();
  builder.pipeline.reset();
  builder.searchPipeline.reset();
  builder.metadataWhitelist = [];
  builder.ref('id');
  for (const [name, boost] of Object.entries(FAQ_FIELDS)) builder.field(name, { boost });
  for (const e of entries) {
    builder.add({ id: e.id, title: terms(e.title), questions: terms(e.questions.join('。')), keywords: terms(e.keywords.join(' ')), answer: terms(e.answer) });
  }
  return builder.build();
}

/**
 * Ranks FAQ entries and policy summaries for a question's terms: lunr's scores over the fields,
 * times the share of the question's weight an entry covers, plus how close the question is to one
 * of the entry's own phrasings (its title and alternative questions). Term weights are idf over the
 * fields that say what an entry is about.
 */
export class FaqRanking {
  private readonly byId = new Map<string, Entry>();
  private readonly scores: LunrScores;
  private readonly weights = new Map<string, number>();
  private readonly oovWeight: number;
  /** Terms of each entry's title and alternative questions, for question similarity. */
  private readonly phrasings = new Map<string, Phrasing[]>();
  /** Per term of the title, question and keyword fields: the entries that use it. */
  private readonly postings: Readonly<Record<string, Readonly<Record<string, Readonly<Record<string, object>>>>>>;

  constructor(
    readonly entries: readonly Entry[],
    private readonly index: lunr.Index,
    analyzer: Analyzer,
  ) {
    this.scores = new LunrScores(index);
    this.postings = (index as unknown as { invertedIndex: FaqRanking['postings'] }).invertedIndex;
    for (const e of entries) this.byId.set(e.id, e);
    this.oovWeight = bm25Idf(1, Math.max(entries.length, 1)) * UNKNOWN_WORD_SHARE;
    for (const e of entries) {
      this.phrasings.set(e.id, [e.title, ...e.questions].map((q): Phrasing => {
        const terms = new Set(analyzer.analyze(q).terms);
        return { terms, norm: [...terms].reduce((sum, t) => sum + this.weight(t) ** 2, 0) };
      }));
    }
  }

  /** The lunr index (saved with the search index). */
  get lunr(): lunr.Index {
    return this.index;
  }

  /** The terms of the fields that say what an entry is about, with the number of entries using each. */
  *vocabulary(): Generator<{ term: string; entries: number }> {
    for (const term of Object.keys(this.postings)) {
      const entries = this.documentFrequency(term);
      if (entries > 0) yield { term, entries };
    }
  }

  /**
   * FAQ candidates re-ranked by coverage and by closeness to an alternative question, best first.
   * `shares` scales the weight of terms the question holds less surely (a word read by its sound).
   */
  rank(terms: readonly string[], shares: ReadonlyMap<string, number> = new Map()): Hit[] {
    const weights = new Map(terms.map((t) => [t, this.weight(t) * (shares.get(t) ?? 1)]));
    const total = terms.reduce((sum, t) => sum + (weights.get(t) ?? 0), 0);
    if (total === 0) return [];
    const found = this.scores.search(weights).slice(0, CANDIDATES);
    const norm = [...weights.values()].reduce((sum, w) => sum + w * w, 0);
    const top = Math.max(...found.map((r) => r.score), Number.MIN_VALUE);
    const hits: Hit[] = [];
    for (const r of found) {
      const entry = this.byId.get(r.ref);
      if (!entry) continue;
      const evidence = r.matched.reduce((sum, t) => sum + (weights.get(t) ?? 0), 0);
      const coverage = Math.min(1, evidence / total);
      const similarity = Math.max(0, ...(this.phrasings.get(entry.id) ?? []).map((p) => cosine(weights, norm, p)));
      const score = ((r.score / top) * coverage + QUESTION_SIMILARITY_WEIGHT * similarity) * (entry.kind === 'policy' ? POLICY_SUMMARY_FACTOR : 1);
      hits.push({ entry, score, coverage, evidence, similarity });
    }
    return hits.sort((a, b) => b.score - a.score);
  }

  /**
   * A term's weight: BM25's idf over the entries whose title, questions or keywords use it. The
   * answer is left out: every answer ends with where to do it (电子税务局, 12366), which would make
   * the words of a question about those channels look common. Words the knowledge never uses get a
   * share of the rarest word's weight (numbers less: they are details, not the subject).
   */
  weight(term: string): number {
    const cached = this.weights.get(term);
    if (cached !== undefined) return cached;
    const df = this.documentFrequency(term);
    if (df === 0) return this.oovWeight * (/^\d+$/.test(term) ? NUMBER_WEIGHT : 1);
    // Only words of the knowledge are cached: users' other words would grow the cache without end.
    const w = bm25Idf(df, this.entries.length);
    this.weights.set(term, w);
    return w;
  }

  /** Number of entries whose title, questions or keywords use the term. */
  documentFrequency(term: string): number {
    const posting = this.postings[term];
    if (!posting) return 0;
    const refs = new Set<string>();
    for (const field of ['title', 'questions', 'keywords']) for (const ref of Object.keys(posting[field] ?? {})) refs.add(ref);
    return refs.size;
  }
}
