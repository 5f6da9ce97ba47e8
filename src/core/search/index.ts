import lunr from 'lunr';
import type { Analyzer, Lexicon } from '../text/analyze.js';
import { NUMERAL, StatuteNames, parseChineseNumber, shortTitle, toChineseNumber } from './statute-ref.js';
import { LunrScores } from './lunr-scores.js';
import { PassageIndex, bm25Idf, type SerializedPassages } from './passages.js';
import type { Entry, Statute } from './types.js';

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
 * Why the bot answers or not: `answered`; `uncertain` (close entries, none sure: suggestions);
 * `no_match` (nothing relevant: out of scope); `small_talk` (greetings, thanks); `empty` (no words at all).
 */
export type Reason = 'answered' | 'uncertain' | 'no_match' | 'small_talk' | 'empty';

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

/** Weight of the closest alternative question in the ranking, next to the lunr score times coverage. */
const QUESTION_SIMILARITY_WEIGHT = 0.6;
/** Policy summaries explain background; when one and a FAQ entry match alike, the FAQ answer leads. */
const POLICY_SUMMARY_FACTOR = 0.8;
/** A word the knowledge never uses counts as this share of the rarest word's weight. */
const UNKNOWN_WORD_SHARE = 0.6;

/** Field boosts: a word in the title or the alternative questions says more than one in the answer. */
const FAQ_FIELDS = { title: 3, questions: 2, keywords: 2, answer: 1 } as const;
/** Numbers the knowledge never mentions (a sales figure, a date) are details of a question, not its subject. */
const NUMBER_WEIGHT = 0.2;
const MAX_SUGGESTIONS = 3;
/** Characters of a message that are analysed: a question is short; a pasted document is not one. */
const MAX_ANALYZED = 1000;
/** Share of a question a statute article must contain to answer a question that names its statute. */
const STATUTE_COVERAGE = 0.5;
/** Share of the question an article of a named statute must contain to be cited. */
const CITATION_COVERAGE = 0.3;
const MAX_CITATIONS = 3;
/** Article numbers in a source line: 第二十七条、第三十一条. */
const ARTICLE_NUMBERS = new RegExp(`第(${NUMERAL})条`, 'gu');
const CANDIDATES = 10;

/** What {@link SearchIndex.toJSON} writes and {@link SearchIndex.load} reads. */
export interface SerializedIndex {
  readonly faq: object;
  readonly passages: SerializedPassages;
}

interface Hit {
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

/** How the index sees a question: its terms with weights and the best candidates (for tuning and `ask --explain`). */
export interface Explanation {
  readonly terms: { term: string; weight: number }[];
  readonly hits: { id: string; score: number; coverage: number; evidence: number; similarity: number }[];
}

/** The statute article behind a passage id, and the passage as an {@link Entry}. */
function passageId(statute: Statute, article: number): string {
  return `law/${shortTitle(statute.title)}/${article}`;
}

function passageTitle(statute: Statute, article: number): string {
  return `《${statute.title}》第${toChineseNumber(article)}条`;
}

function newBuilder(fields: Record<string, number>): lunr.Builder {
  const builder = new lunr.Builder();
  builder.pipeline.reset();
  builder.searchPipeline.reset();
  builder.metadataWhitelist = [];
  builder.ref('id');
  for (const [name, boost] of Object.entries(fields)) builder.field(name, { boost });
  return builder;
}

/**
 * Counts the FAQ entries that contain a term in the fields that say what an entry is about. The
 * answer is left out: every answer ends with where to do it (电子税务局, 12366), which would make
 * the words of a question about those channels look common.
 */
function documentFrequency(index: lunr.Index, term: string): number {
  const posting = (index as unknown as { invertedIndex: Record<string, Record<string, object>> }).invertedIndex[term];
  if (!posting) return 0;
  const refs = new Set<string>();
  for (const field of ['title', 'questions', 'keywords']) for (const ref of Object.keys(posting[field] ?? {})) refs.add(ref);
  return refs.size;
}

/**
 * The knowledge index: FAQ entries and policy summaries in one lunr index, statute articles in another.
 * It decides rather than ranks: an answer when the best entry is clearly it, suggestions when a few are
 * close, nothing for small talk and for what the knowledge does not cover.
 */
export class SearchIndex {
  private readonly byId = new Map<string, Entry>();
  /** lunr's scores over the FAQ index, computed without its query machinery. */
  private readonly scores: LunrScores;
  private readonly passages = new Map<string, { statute: Statute; article: number; text: string }>();
  /** Document numbers of the statute articles in the passage index: statute -> first document. */
  private readonly firstDoc = new Map<Statute, number>();
  /** Passage id of each document of the passage index. */
  private readonly docIds: string[] = [];
  private readonly faqDocs: number;
  private readonly policyDocs: number;
  private readonly names: StatuteNames;
  private readonly weights = new Map<string, number>();
  private readonly oovWeight: number;
  /** Terms of each entry's title and alternative questions, for question similarity. */
  private readonly phrasings = new Map<string, Phrasing[]>();
  /** The statutes (and articles) each entry's sources name, worked out once per entry on first citation. */
  private readonly sourceRefs = new Map<string, { statute: Statute; articles: number[] }[]>();
  /** The terms of each statute's own name, left out when searching within it. */
  private readonly titleTerms = new Map<Statute, Set<string>>();

  private constructor(
    readonly entries: readonly Entry[],
    readonly statutes: readonly Statute[],
    private readonly analyzer: Analyzer,
    lexicon: Lexicon,
    private readonly faq: lunr.Index,
    private readonly policy: PassageIndex,
    private readonly thresholds: Thresholds,
  ) {
    this.scores = new LunrScores(faq);
    for (const e of entries) this.byId.set(e.id, e);
    for (const s of statutes) {
      this.firstDoc.set(s, this.docIds.length);
      for (const a of s.articles) {
        const id = passageId(s, a.number);
        this.passages.set(id, { statute: s, article: a.number, text: a.text });
        this.docIds.push(id);
      }
    }
    this.faqDocs = entries.length;
    this.policyDocs = this.passages.size;
    this.names = new StatuteNames(statutes, lexicon);
    this.oovWeight = bm25Idf(1, Math.max(this.faqDocs, 1)) * UNKNOWN_WORD_SHARE;
    for (const e of entries) {
      this.phrasings.set(e.id, [e.title, ...e.questions].map((q): Phrasing => {
        const terms = new Set(analyzer.analyze(q).terms);
        return { terms, norm: [...terms].reduce((sum, t) => sum + this.faqWeight(t) ** 2, 0) };
      }));
    }
  }

  /** Builds both indexes from loaded knowledge. */
  static build(entries: readonly Entry[], statutes: readonly Statute[], analyzer: Analyzer, lexicon: Lexicon, thresholds = DEFAULT_THRESHOLDS): SearchIndex {
    const terms = (text: string): string[] => analyzer.terms(analyzer.analyze(text).normalized);
    const faq = newBuilder(FAQ_FIELDS);
    for (const e of entries) {
      faq.add({ id: e.id, title: terms(e.title), questions: terms(e.questions.join('。')), keywords: terms(e.keywords.join(' ')), answer: terms(e.answer) });
    }
    const policy = PassageIndex.build((function* articleTerms() {
      for (const s of statutes) for (const a of s.articles) yield terms(a.text);
    })());
    return new SearchIndex(entries, statutes, analyzer, lexicon, faq.build(), policy, thresholds);
  }

  /** Restores an index saved with {@link toJSON}; the entries and statutes must be those it was built from. */
  static load(saved: SerializedIndex, entries: readonly Entry[], statutes: readonly Statute[], analyzer: Analyzer, lexicon: Lexicon, thresholds = DEFAULT_THRESHOLDS): SearchIndex {
    return new SearchIndex(entries, statutes, analyzer, lexicon, lunr.Index.load(saved.faq), PassageIndex.load(saved.passages), thresholds);
  }

  toJSON(): SerializedIndex {
    return { faq: this.faq.toJSON(), passages: this.policy.toJSON() };
  }

  /** Number of statute articles indexed. */
  get passageCount(): number {
    return this.policyDocs;
  }

  /** Every statute article as an entry, in statute order (for `kb export`). */
  articles(): Entry[] {
    return [...this.passages].map(([id, p]) => this.passageEntry(id, p.statute, p.article, p.text));
  }

  /** Looks up an entry or a statute article by id. */
  entry(id: string): Entry | undefined {
    const found = this.byId.get(id);
    if (found) return found;
    const p = this.passages.get(id);
    return p ? this.passageEntry(id, p.statute, p.article, p.text) : undefined;
  }

  /** The answer made of one entry (a suggestion the user picked), or null when it is unknown or no longer in force. */
  answerFor(id: string, q: string, now: Date = new Date()): Answer | null {
    const entry = this.entry(id);
    return entry && inForce(entry, chinaDay(now)) ? this.answer(q, entry, 1, [], []) : null;
  }

  /** Answers one question; `now` decides which entries are in force. */
  ask(q: string, now: Date = new Date()): Answer {
    const analysis = this.analyzer.analyze(q.length > MAX_ANALYZED ? q.slice(0, MAX_ANALYZED) : q);
    const ref = this.policyDocs > 0 ? this.names.find(analysis.normalized) : null;
    if (ref?.article != null) {
      const id = passageId(ref.statute, ref.article);
      const entry = this.entry(id);
      if (entry) return this.answer(q, entry, 1, [], []);
      return this.noAnswer(q, 'no_match', []);
    }
    if (analysis.terms.length === 0) return this.noAnswer(q, analysis.smallTalk ? 'small_talk' : 'empty', []);

    const terms = [...new Set(analysis.terms)];
    const day = chinaDay(now);
    const faqHits = this.rankFaq(terms).filter((h) => inForce(h.entry, day));
    const decided = this.decide(faqHits);
    if (decided.answer) return this.answer(q, decided.answer.entry, decided.answer.score, [], this.cite(terms, decided.answer.entry, ref?.statute));

    if (ref) {
      const statuteHits = this.searchPolicy(terms, ref.statute);
      const best = statuteHits[0];
      if (best && best.coverage >= STATUTE_COVERAGE) return this.answer(q, best.entry, best.score, [], []);
      return this.noAnswer(q, statuteHits.length > 0 ? 'uncertain' : 'no_match', statuteHits.slice(0, MAX_SUGGESTIONS));
    }
    return this.noAnswer(q, decided.suggestions.length > 0 ? 'uncertain' : 'no_match', decided.suggestions);
  }

  /** The terms of a question and the ranked FAQ candidates with their figures, without deciding. */
  explain(q: string): Explanation {
    const terms = [...new Set(this.analyzer.analyze(q).terms)];
    return {
      terms: terms.map((term) => ({ term, weight: round(this.faqWeight(term)) })),
      hits: this.rankFaq(terms).map((h) => ({ id: h.entry.id, score: round(h.score), coverage: round(h.coverage), evidence: round(h.evidence), similarity: round(h.similarity) })),
    };
  }

  private decide(hits: Hit[]): { answer: Hit | null; suggestions: Suggestion[] } {
    const t = this.thresholds;
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

  /** FAQ candidates re-ranked by coverage and by closeness to an alternative question. */
  private rankFaq(terms: string[]): Hit[] {
    const weights = new Map(terms.map((t) => [t, this.faqWeight(t)]));
    const hits = this.rank(terms, weights);
    const norm = [...weights.values()].reduce((sum, w) => sum + w * w, 0);
    const top = Math.max(...hits.map((h) => h.score), Number.MIN_VALUE);
    return hits
      .map((h) => {
        const similarity = Math.max(0, ...(this.phrasings.get(h.entry.id) ?? []).map((p) => cosine(weights, norm, p)));
        const score = ((h.score / top) * h.coverage + QUESTION_SIMILARITY_WEIGHT * similarity) * (h.entry.kind === 'policy' ? POLICY_SUMMARY_FACTOR : 1);
        return { ...h, score, similarity };
      })
      .sort((a, b) => b.score - a.score);
  }

  private rank(terms: string[], weights: ReadonlyMap<string, number>): Hit[] {
    const total = terms.reduce((sum, t) => sum + (weights.get(t) ?? 0), 0);
    if (total === 0) return [];
    const hits: Hit[] = [];
    for (const r of this.scores.search(weights).slice(0, CANDIDATES)) {
      const entry = this.byId.get(r.ref);
      if (!entry) continue;
      const evidence = r.matched.reduce((sum, t) => sum + (weights.get(t) ?? 0), 0);
      hits.push({ entry, score: r.score, coverage: Math.min(1, evidence / total), evidence, similarity: 0 });
    }
    return hits;
  }

  /** Articles of one statute ranked for the question's terms (the statute's own name left out). */
  private searchPolicy(terms: string[], within: Statute): Hit[] {
    let titleTerms = this.titleTerms.get(within);
    if (!titleTerms) this.titleTerms.set(within, (titleTerms = new Set(this.analyzer.terms(shortTitle(within.title)))));
    const asked = terms.filter((t) => !(titleTerms as Set<string>).has(t));
    const query = asked.length > 0 ? asked : terms;
    const total = query.reduce((sum, t) => sum + this.policy.idf(t), 0);
    if (total === 0) return [];
    const from = this.firstDoc.get(within) ?? 0;
    return this.policy.search(query, from, from + within.articles.length, CANDIDATES).flatMap((h): Hit[] => {
      const entry = this.entry(this.docIds[h.doc] as string);
      return entry ? [{ entry, score: h.score, coverage: Math.min(1, h.evidence / total), evidence: h.evidence, similarity: 0 }] : [];
    });
  }

  /**
   * The statute articles backing an FAQ answer: those its sources name (《…法》第N条), and for a
   * statute named without an article (in the sources or the question), its article that best matches
   * the question. Only named statutes are cited: a free search over all statutes finds look-alikes.
   */
  private cite(terms: string[], entry: Entry, named?: Statute): Citation[] {
    if (this.policyDocs === 0) return [];
    const found = new Map<string, Citation>();
    const add = (e: Entry | undefined): void => void (e && found.set(e.id, { id: e.id, title: e.title }));
    const bestIn = (statute: Statute): void => {
      const best = this.searchPolicy(terms, statute)[0];
      if (best && best.coverage >= CITATION_COVERAGE) add(best.entry);
    };
    for (const { statute, articles } of this.namedIn(entry)) {
      if (articles.length === 0) bestIn(statute);
      for (const n of articles) add(this.entry(passageId(statute, n)));
    }
    if (named) bestIn(named);
    return [...found.values()].slice(0, MAX_CITATIONS);
  }

  /** The statutes an entry's sources name, with the article numbers given for each. */
  private namedIn(entry: Entry): { statute: Statute; articles: number[] }[] {
    let refs = this.sourceRefs.get(entry.id);
    if (!refs) {
      refs = entry.sources.flatMap((source) => {
        const normalized = this.analyzer.analyze(source).normalized;
        const ref = this.names.find(normalized);
        if (!ref) return [];
        const articles = [...normalized.matchAll(ARTICLE_NUMBERS)].map((m) => parseChineseNumber(m[1] as string)).filter(Number.isFinite);
        return [{ statute: ref.statute, articles }];
      });
      this.sourceRefs.set(entry.id, refs);
    }
    return refs;
  }

  private faqWeight(term: string): number {
    const cached = this.weights.get(term);
    if (cached !== undefined) return cached;
    const df = documentFrequency(this.faq, term);
    if (df === 0) return this.oovWeight * (/^\d+$/.test(term) ? NUMBER_WEIGHT : 1);
    // Only words of the knowledge are cached: users' other words would grow the cache without end.
    const w = bm25Idf(df, this.faqDocs);
    this.weights.set(term, w);
    return w;
  }

  private passageEntry(id: string, statute: Statute, article: number, text: string): Entry {
    return {
      id, kind: 'policy', title: passageTitle(statute, article), category: statute.category || '法规', questions: [], keywords: [],
      answer: text, sources: [`《${statute.title}》${statute.date ? `（${statute.date}）` : ''}`], validFrom: null, validUntil: null,
      audience: {}, related: [], file: statute.file,
    };
  }

  private answer(q: string, entry: Entry, score: number, suggestions: Suggestion[], citations: Citation[]): Answer {
    return {
      q, answered: true, id: entry.id, title: entry.title, score: round(score), answer: entry.answer, suggestions, reason: 'answered',
      kind: entry.kind, category: entry.category, sources: [...entry.sources], citations,
    };
  }

  private noAnswer(q: string, reason: Reason, suggestions: Suggestion[] | Hit[]): Answer {
    const list = suggestions.map((s) => ('entry' in s ? toSuggestion(s) : s));
    return { q, answered: false, id: null, title: null, score: 0, answer: null, suggestions: list, reason, kind: null, category: null, sources: [], citations: [] };
  }
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

/** The calendar day in China (UTC+8, no daylight saving): valid_until 2027-12-31 ends at midnight Beijing time. */
export function chinaDay(now: Date): string {
  return new Date(now.getTime() + 8 * 3600_000).toISOString().slice(0, 10);
}

function inForce(entry: Entry, day: string): boolean {
  return (!entry.validFrom || entry.validFrom <= day) && (!entry.validUntil || entry.validUntil >= day);
}

function toSuggestion(h: Hit): Suggestion {
  return { id: h.entry.id, title: h.entry.title, score: round(h.score) };
}

function round(n: number): number {
  return Math.round(n * 1000) / 1000;
}
