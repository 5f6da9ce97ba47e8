import lunr from 'lunr';
import type { Analyzer } from '../text/analyze.js';
import { LunrScores } from './lunr-scores.js';
import { bm25Idf } from './passages.js';
import type { QuestionFigures } from './decision.js';
import type { Entry } from './types.js';

/** Weight of the closest alternative question in the ranking, next to the lunr score times coverage. */
const QUESTION_SIMILARITY_WEIGHT = 0.6;
/** Policy summaries explain background; when one and a FAQ entry match alike, the FAQ answer leads. */
const POLICY_SUMMARY_FACTOR = 0.8;

/**
 * How much a word says, beyond how few entries use it. The knowledge has few entries, so a word that
 * only one of them happens to use (一步, 交了, 标准) would weigh as much as the name of a tax; the
 * word's specificity in everyday Chinese (its idf over a general corpus) tempers that. A word the
 * knowledge never uses counts as a share of the rarest word's weight that grows with that same
 * specificity: 公司 or 今天 say little about what a question is about, 契税 or 公积金 say it is about
 * something the knowledge does not cover.
 */
export const WORD_WEIGHT = {
  /** Specificity at and below which a word is plain language... */
  plain: 4,
  /** ...and at and above which it is a term. */
  specific: 9,
  /** A known word's weight is scaled from this share (plain) up to its whole idf (a term). */
  knownLeast: 0.4,
  /** An unknown word's share of the rarest word's weight, from plain... */
  unknownLeast: 0.2,
  /** ...to a term. */
  unknownMost: 1.2,
  /** A sequence the dictionary does not know (an HMM guess, a typo) or Latin letters that are no known word. */
  guessed: 0.5,
  /** One character alone rarely names a subject. */
  single: 0.3,
  /** Numbers the knowledge never mentions (a sales figure, a date) are details of a question, not its subject. */
  number: 0.2,
};

/** Field boosts: a word in the title or the alternative questions says more than one in the answer. */
const FAQ_FIELDS = { title: 3, questions: 2, keywords: 2, answer: 1 } as const;
/** The fields that say what an entry is about; the answer also holds where to do it, for every entry. */
const PROFILE_FIELDS = ['title', 'questions', 'keywords'] as const;
/** Candidates re-ranked per question, by lunr's score... */
const CANDIDATES = 10;
/** ...and any entry whose title, questions or keywords hold a word this close to the question's heaviest. */
const HEAVY_SHARE = 0.8;

/** One candidate entry for a question, with the figures the decision reads. */
export interface Hit {
  readonly entry: Entry;
  /** The ranking score: lunr's score (relative to the best) times coverage, plus question similarity. */
  readonly score: number;
  /** Share of the question's weight found in the entry (any field). */
  readonly coverage: number;
  /** Share of the question's weight found in the fields that say what the entry is about (title, questions, keywords). */
  readonly aboutness: number;
  /** Weight of the question's terms found in the entry. */
  readonly evidence: number;
  /** Weighted cosine between the question and the closest of the entry's title and alternative questions. */
  readonly similarity: number;
  /** The largest share of one of the entry's own phrasings (title, alternative questions) that the question holds. */
  readonly phrasing: number;
}

/** The ranked candidates for a question, and the figures of the question itself. */
export interface Ranked {
  readonly hits: Hit[];
  readonly question: QuestionFigures;
}

/** The terms of one way of asking for an entry, and the sum of their squared weights. */
interface Phrasing {
  readonly terms: ReadonlySet<string>;
  readonly norm: number;
  /** The sum of the terms' weights. */
  readonly weight: number;
}

/** Weighted cosine similarity of a question's terms (with their weights and its norm) and a phrasing. */
function cosine(question: ReadonlyMap<string, number>, norm: number, phrasing: Phrasing): number {
  if (norm === 0 || phrasing.norm === 0) return 0;
  let shared = 0;
  for (const [t, w] of question) if (phrasing.terms.has(t)) shared += w * w;
  return shared / Math.sqrt(norm * phrasing.norm);
}

/**
 * Groups the terms of a question by the stretch of text they come from. Search-mode segmentation
 * gives a long word and the words inside it (城镇土地使用税, 土地, 使用税 ...): counted apart, one word
 * of the question would weigh four times. Terms one of which holds the other are one stretch.
 */
export function stretches(terms: readonly string[]): string[][] {
  const unique = [...new Set(terms)];
  const parent = unique.map((_, i) => i);
  const root = (i: number): number => {
    while (parent[i] !== i) i = parent[i] as number;
    return i;
  };
  unique.forEach((t, i) => {
    for (let j = i + 1; j < unique.length; j++) {
      const u = unique[j] as string;
      if (t.includes(u) || u.includes(t)) parent[root(i)] = root(j);
    }
  });
  const groups = new Map<number, string[]>();
  unique.forEach((t, i) => {
    const r = root(i);
    groups.set(r, [...(groups.get(r) ?? []), t]);
  });
  return [...groups.values()];
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
 * Ranks FAQ entries, referrals and policy summaries for a question's terms: lunr's scores over the
 * fields, times the share of the question's weight an entry covers, plus how close the question is
 * to one of the entry's own phrasings (its title and alternative questions). Term weights are idf
 * over the fields that say what an entry is about, tempered by {@link WORD_WEIGHT}.
 */
export class FaqRanking {
  private readonly byId = new Map<string, Entry>();
  private readonly scores: LunrScores;
  private readonly weights = new Map<string, number>();
  /** The weight of a word used by one entry: what an unknown word's share is taken of. */
  private readonly rarest: number;
  /** Terms of each entry's title and alternative questions, for question similarity. */
  private readonly phrasings = new Map<string, Phrasing[]>();
  /** Per term: per field, the entries that use it. */
  private readonly postings: Readonly<Record<string, Readonly<Record<string, Readonly<Record<string, object>>>>>>;

  /**
   * `saved`: the terms of each entry's phrasings as {@link phrasingTerms} gave them when the index
   * was built, so that a saved index need not segment them again. `scores`: lunr's scores over
   * `index`, when made beforehand (a stepped load makes them in a step of their own).
   */
  constructor(
    readonly entries: readonly Entry[],
    private readonly index: lunr.Index,
    private readonly analyzer: Analyzer,
    saved: Readonly<Record<string, readonly (readonly string[])[]>> = {},
    scores: LunrScores = new LunrScores(index),
  ) {
    this.scores = scores;
    this.postings = (index as unknown as { invertedIndex: FaqRanking['postings'] }).invertedIndex;
    for (const e of entries) this.byId.set(e.id, e);
    this.rarest = bm25Idf(1, Math.max(entries.length, 1));
    for (const e of entries) {
      const lists = saved[e.id] ?? [e.title, ...e.questions].map((q) => [...new Set(analyzer.analyze(q).terms)]);
      this.phrasings.set(e.id, lists.map((list): Phrasing => {
        const terms = new Set(list);
        const ws = [...terms].map((t) => this.weight(t));
        return { terms, norm: ws.reduce((sum, w) => sum + w * w, 0), weight: ws.reduce((sum, w) => sum + w, 0) };
      }));
    }
  }

  /** The terms of each entry's title and alternative questions, to save with the index. */
  phrasingTerms(): Record<string, string[][]> {
    return Object.fromEntries([...this.phrasings].map(([id, list]) => [id, list.map((p) => [...p.terms])]));
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
   * Coverage counts each stretch of the question once ({@link stretches}): found when the entry holds
   * any of its words, for the weight of the heaviest word found.
   */
  rank(terms: readonly string[], shares: ReadonlyMap<string, number> = new Map()): Ranked {
    const weights = new Map(terms.map((t) => [t, this.weight(t) * (shares.get(t) ?? 1)]));
    const groups = stretches(terms).map((members) => ({ members, weight: Math.max(...members.map((t) => weights.get(t) ?? 0)) }));
    const total = groups.reduce((sum, g) => sum + g.weight, 0);
    const unknown = groups.reduce((sum, g) => sum + (g.members.some((t) => this.documentFrequency(t) > 0) ? 0 : g.weight), 0);
    const question: QuestionFigures = { unknownShare: total > 0 ? unknown / total : 0, terms: groups.length };
    if (total === 0) return { hits: [], question };
    // lunr's own idf runs over the answers too, where every entry names 12366 and 电子税务局: an entry
    // whose title or keywords hold the question's heaviest word joins the candidates whatever its
    // lunr score.
    const all = this.scores.search(weights);
    const heaviest = Math.max(...weights.values());
    const heavy = [...weights].filter(([, w]) => w >= HEAVY_SHARE * heaviest).map(([t]) => t);
    const found = all.filter((r, i) => i < CANDIDATES || heavy.some((t) => this.describes(t, r.ref)));
    const norm = [...weights.values()].reduce((sum, w) => sum + w * w, 0);
    const top = Math.max(...found.map((r) => r.score), Number.MIN_VALUE);
    const hits: Hit[] = [];
    for (const r of found) {
      const entry = this.byId.get(r.ref);
      if (!entry) continue;
      const matched = new Set(r.matched);
      const credit = (holds: (t: string) => boolean): number =>
        groups.reduce((sum, g) => sum + Math.min(g.weight, Math.max(0, ...g.members.filter(holds).map((t) => weights.get(t) ?? 0))), 0);
      const evidence = credit((t) => matched.has(t));
      const coverage = Math.min(1, evidence / total);
      const aboutness = Math.min(1, credit((t) => this.describes(t, entry.id)) / total);
      const phrasings = this.phrasings.get(entry.id) ?? [];
      const similarity = Math.max(0, ...phrasings.map((p) => cosine(weights, norm, p)));
      const phrasing = Math.max(0, ...phrasings.map((p) => this.held(weights, p)));
      const score = ((r.score / top) * coverage + QUESTION_SIMILARITY_WEIGHT * similarity) * (entry.kind === 'policy' ? POLICY_SUMMARY_FACTOR : 1);
      hits.push({ entry, score, coverage, aboutness, evidence, similarity, phrasing });
    }
    return { hits: hits.sort((a, b) => b.score - a.score), question };
  }

  /**
   * A term's weight: BM25's idf over the entries whose title, questions or keywords use it, tempered
   * by its specificity. The answer is left out: every answer ends with where to do it (电子税务局,
   * 12366), which would make the words of a question about those channels look common. Words the
   * knowledge never uses get a share of the rarest word's weight ({@link WORD_WEIGHT}).
   */
  weight(term: string): number {
    const cached = this.weights.get(term);
    if (cached !== undefined) return cached;
    const df = this.documentFrequency(term);
    if (df === 0) return this.rarest * this.unknownShare(term);
    // Only words of the knowledge are cached: users' other words would grow the cache without end.
    const w = bm25Idf(df, this.entries.length) * (WORD_WEIGHT.knownLeast + (1 - WORD_WEIGHT.knownLeast) * this.termness(term));
    this.weights.set(term, w);
    return w;
  }

  /** Number of entries whose title, questions or keywords use the term. */
  documentFrequency(term: string): number {
    const posting = this.postings[term];
    if (!posting) return 0;
    const refs = new Set<string>();
    for (const field of PROFILE_FIELDS) for (const ref of Object.keys(posting[field] ?? {})) refs.add(ref);
    return refs.size;
  }

  /** Whether the entry's title, questions or keywords use the term. */
  private describes(term: string, id: string): boolean {
    const posting = this.postings[term];
    return posting !== undefined && PROFILE_FIELDS.some((f) => posting[f]?.[id] !== undefined);
  }

  /** The share of a phrasing's weight that the question's terms hold. */
  private held(question: ReadonlyMap<string, number>, phrasing: Phrasing): number {
    if (phrasing.weight === 0) return 0;
    let shared = 0;
    for (const t of phrasing.terms) if (question.has(t)) shared += this.weight(t);
    return shared / phrasing.weight;
  }

  /**
   * Where a known word stands between plain language (0) and a term (1), by its specificity. A
   * sequence the dictionary does not know (the HMM joined 能交 or 交了 in a phrasing and in a question
   * alike) is plain language, whatever the general corpus, which has never seen it, says.
   */
  private termness(term: string): number {
    const u = WORD_WEIGHT;
    // A number the knowledge itself uses is a name (12366, 12333), not a figure of the question.
    if (/^\d+$/.test(term)) return 1;
    if (!/^[a-z]+$/.test(term) && !this.analyzer.isWord(term)) return 0;
    return Math.min(1, Math.max(0, (this.analyzer.specificity(term) - u.plain) / (u.specific - u.plain)));
  }

  private unknownShare(term: string): number {
    const u = WORD_WEIGHT;
    if (/^\d+$/.test(term)) return u.number;
    if (term.length === 1) return u.single;
    if (/^[a-z]+$/.test(term) || !this.analyzer.isWord(term)) return u.guessed;
    return u.unknownLeast + (u.unknownMost - u.unknownLeast) * this.termness(term);
  }
}
