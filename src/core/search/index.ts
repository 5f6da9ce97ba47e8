import lunr from 'lunr';
import type { Analysis, Analyzer, Lexicon } from '../text/analyze.js';
import { answerWith, noAnswer, round, type Answer } from './answer.js';
import { Citations } from './citations.js';
import { DEFAULT_CONFIDENCE, candidateFigures, chances, decide, questionFigures, toSuggestion, type Confidence } from './decision.js';
import { FaqRanking, buildFaqIndex, type Ranked } from './faq-ranking.js';
import { LunrScores } from './lunr-scores.js';
import { PassageIndex, type SerializedPassages } from './passages.js';
import { SoundAlike, type Correction } from './soundalike.js';
import { StatuteSearch } from './statute-search.js';
import type { Entry, Statute } from './types.js';
import { questionKey } from '../insight/inbox.js';

export type { Answer, Citation, Reason, Suggestion } from './answer.js';
export { DEFAULT_CONFIDENCE, type Confidence } from './decision.js';

const MAX_SUGGESTIONS = 3;
/** Characters of a message that are analysed: a question is short; a pasted document is not one. */
const MAX_ANALYZED = 1000;
/** Share of a question a statute article must contain to answer a question that names its statute. */
const STATUTE_COVERAGE = 0.5;
/** Below this chance for its best candidate, a message that greets is answered as small talk. */
const GREETING_OVER = 0.3;
/** A word read by its sound (申暴 as 申报) weighs this share of the word typed right: it may be a guess. */
const SOUND_ALIKE_SHARE = 0.8;

/** What {@link SearchIndex.toJSON} writes and {@link SearchIndex.load} reads. */
export interface SerializedIndex {
  readonly faq: object;
  readonly passages: SerializedPassages;
  /** The terms of each entry's phrasings (FaqRanking.phrasingTerms). */
  readonly phrasings: Record<string, string[][]>;
  /** The pinyin of the knowledge's words (SoundAlike.toJSON). */
  readonly pinyin: Record<string, string>;
}

/** How the index sees a question: its terms with weights and the best candidates (for tuning and `ask --explain`). */
export interface Explanation {
  readonly terms: { term: string; weight: number }[];
  /** Stretches of the question read as knowledge words that sound the same. */
  readonly corrections: Correction[];
  readonly hits: { id: string; score: number; coverage: number; aboutness: number; evidence: number; similarity: number; phrasing: number; chance: number | null }[];
}

/** A question as the index reads it: its search terms, those read by sound, and its ranked candidates. */
export interface Reading {
  readonly terms: string[];
  /** Terms held less surely, with the share of their weight they count for. */
  readonly shares: ReadonlyMap<string, number>;
  readonly corrections: Correction[];
  readonly ranked: Ranked;
}

/**
 * The knowledge index: FAQ entries and policy summaries ranked by {@link FaqRanking}, statute
 * articles found by {@link StatuteSearch}, the choice made by {@link decide}, and answers cited by
 * {@link Citations}. It decides rather than ranks: an answer when the best entry is clearly it,
 * suggestions when a few are close, nothing for small talk and for what the knowledge does not cover.
 */
export class SearchIndex {
  private readonly byId = new Map<string, Entry>();
  private readonly citations: Citations;

  private constructor(
    readonly entries: readonly Entry[],
    private readonly statuteSearch: StatuteSearch,
    private readonly analyzer: Analyzer,
    private readonly faq: FaqRanking,
    private readonly soundAlike: SoundAlike,
    private readonly confidence: Confidence,
  ) {
    for (const e of entries) this.byId.set(e.id, e);
    this.citations = new Citations(statuteSearch, analyzer);
  }

  /**
   * Puts an index together part by part, yielding between the parts: run at once for a start or a
   * command, or with pauses by {@link loadInSteps}, so that a reload in a running server lets the
   * requests waiting (/healthz) through instead of holding the event loop for the whole.
   */
  private static *assemble(parts: Parts): Generator<void, SearchIndex> {
    const { entries, analyzer, lexicon, saved } = parts;
    const faqIndex = parts.faqIndex();
    yield;
    const scores = new LunrScores(faqIndex);
    yield;
    const faq = new FaqRanking(entries, faqIndex, analyzer, saved?.phrasings, scores);
    yield;
    const statutes = parts.statutes();
    yield;
    const used = new Map([...faq.vocabulary()].map(({ term, entries: n }) => [term, n]));
    const aliases = [...lexicon.synonyms].flatMap(([alias, canonical]) => {
      const n = used.get(canonical);
      return n ? [{ surface: alias, canonical, entries: n }] : [];
    });
    yield;
    const soundAlike = new SoundAlike(
      [...[...used].map(([term, n]) => ({ surface: term, canonical: term, entries: n })), ...aliases],
      { isWord: (w) => analyzer.isWord(w), isStopword: (w) => analyzer.isStopword(analyzer.canonical(w)) },
      lexicon.stopwords,
      new Map(Object.entries(saved?.pinyin ?? {}).map(([w, syllables]) => [w, syllables.split(' ')])),
    );
    return new SearchIndex(entries, statutes, analyzer, faq, soundAlike, parts.confidence);
  }

  private static runNow(steps: Generator<void, SearchIndex>): SearchIndex {
    for (;;) {
      const step = steps.next();
      if (step.done) return step.value;
    }
  }

  /** Builds both indexes from loaded knowledge. */
  static build(entries: readonly Entry[], statutes: readonly Statute[], analyzer: Analyzer, lexicon: Lexicon, confidence = DEFAULT_CONFIDENCE): SearchIndex {
    return SearchIndex.runNow(SearchIndex.assemble({
      entries, analyzer, lexicon, confidence, faqIndex: () => buildFaqIndex(entries, analyzer), statutes: () => StatuteSearch.build(statutes, analyzer, lexicon),
    }));
  }

  /** Restores an index saved with {@link toJSON}; the entries and statutes must be those it was built from. */
  static load(saved: SerializedIndex, entries: readonly Entry[], statutes: readonly Statute[], analyzer: Analyzer, lexicon: Lexicon, confidence = DEFAULT_CONFIDENCE): SearchIndex {
    return SearchIndex.runNow(SearchIndex.assemble(savedParts(saved, entries, statutes, analyzer, lexicon, confidence)));
  }

  /** {@link load} in steps of a few tens of milliseconds, awaiting `pause` between them. */
  static async loadInSteps(
    saved: SerializedIndex, entries: readonly Entry[], statutes: readonly Statute[], analyzer: Analyzer, lexicon: Lexicon, pause: () => Promise<void>,
    confidence = DEFAULT_CONFIDENCE,
  ): Promise<SearchIndex> {
    const steps = SearchIndex.assemble(savedParts(saved, entries, statutes, analyzer, lexicon, confidence));
    for (;;) {
      const step = steps.next();
      if (step.done) return step.value;
      await pause();
    }
  }

  toJSON(): SerializedIndex {
    return { faq: this.faq.lunr.toJSON(), passages: this.statuteSearch.index.toJSON(), phrasings: this.faq.phrasingTerms(), pinyin: this.soundAlike.toJSON() };
  }

  /** The statutes indexed. */
  get statutes(): readonly Statute[] {
    return this.statuteSearch.statutes;
  }

  /** Number of statute articles indexed. */
  get passageCount(): number {
    return this.statuteSearch.size;
  }

  /** Every statute article as an entry, in statute order (for `kb export`). */
  articles(): Entry[] {
    return this.statuteSearch.all();
  }

  /** Looks up an entry or a statute article by id. */
  entry(id: string): Entry | undefined {
    return this.byId.get(id) ?? this.statuteSearch.entry(id);
  }

  /** The answer made of one entry (a suggestion the user picked), or null when it is unknown or no longer in force. */
  answerFor(id: string, q: string, now: Date = new Date()): Answer | null {
    const entry = this.entry(id);
    return entry && inForce(entry, chinaDay(now)) ? answerWith(q, entry, 1, []) : null;
  }

  /**
   * The key the unanswered inbox and the hot board know a question by: its content words as this
   * index's analyzer reads them (core/insight/inbox.ts); null when it holds none (small talk).
   */
  questionKey(q: string): string | null {
    if (this.lastKey?.q === q) return this.lastKey.key;
    return questionKey(this.analyzer.analyze(q.length > MAX_ANALYZED ? q.slice(0, MAX_ANALYZED) : q).terms);
  }

  /** The key of the question last asked: the gateway asks for it right after the answer, and is spared a second analysis. */
  private lastKey: { readonly q: string; readonly key: string | null } | null = null;

  /** Answers one question; `now` decides which entries are in force. */
  ask(q: string, now: Date = new Date()): Answer {
    const analysis = this.analyzer.analyze(q.length > MAX_ANALYZED ? q.slice(0, MAX_ANALYZED) : q);
    this.lastKey = { q, key: questionKey(analysis.terms) };
    const ref = this.statuteSearch.find(analysis.normalized);
    if (ref?.article != null) {
      const entry = this.statuteSearch.article(ref.statute, ref.article);
      return entry ? answerWith(q, entry, 1, []) : noAnswer(q, 'no_match', []);
    }
    if (analysis.terms.length === 0) return noAnswer(q, analysis.smallTalk ? 'small_talk' : 'empty', []);

    const { terms, ranked } = this.reading(analysis, now);
    const decided = decide(ranked.hits, ranked.question, this.confidence);
    if (decided.answer) {
      const { entry, score } = decided.answer;
      return answerWith(q, entry, score, this.citations.cite(terms, entry, ref?.statute));
    }

    if (ref) {
      const statuteHits = this.statuteSearch.searchWithin(terms, ref.statute);
      const best = statuteHits[0];
      if (best && best.coverage >= STATUTE_COVERAGE) return answerWith(q, best.entry, best.score, []);
      return noAnswer(q, statuteHits.length > 0 ? 'uncertain' : 'no_match', statuteHits.slice(0, MAX_SUGGESTIONS).map(toSuggestion));
    }
    // A greeting with a few words that match weakly is a greeting (春风你好，在吗): not a question to guess at.
    if (analysis.greets && decided.confidence < GREETING_OVER) return noAnswer(q, 'small_talk', []);
    return noAnswer(q, decided.suggestions.length > 0 ? 'uncertain' : 'no_match', decided.suggestions);
  }

  /** How the index reads a question, and its FAQ candidates in force, ranked, before any decision (for fitting the decision). */
  candidates(q: string, now: Date = new Date()): Reading {
    return this.reading(this.analyzer.analyze(q.length > MAX_ANALYZED ? q.slice(0, MAX_ANALYZED) : q), now);
  }

  /**
   * The terms a question is searched with: its own, where stretches the knowledge does not know are
   * replaced by the knowledge words they sound like, at a reduced weight; and the candidates.
   */
  private reading(analysis: Analysis, now: Date): Reading {
    const corrections = this.soundAlike.correct(analysis.normalized);
    // A word read by its sound stands for what was typed; an unread single syllable of pinyin (zai, na)
    // is a function word typed in letters.
    const explained = (t: string): boolean =>
      this.faq.documentFrequency(t) === 0 && (corrections.some((c) => c.from.includes(t) || t.includes(c.from)) || this.soundAlike.isSyllable(t));
    const own = new Set(analysis.terms.filter((t) => !explained(t)));
    const shares = new Map<string, number>();
    for (const c of corrections) if (!own.has(c.to)) shares.set(c.to, SOUND_ALIKE_SHARE);
    const terms = [...new Set([...own, ...corrections.map((c) => c.to)])];
    const ranked = this.faq.rank(terms, shares);
    const day = chinaDay(now);
    return { terms, shares, corrections, ranked: { ...ranked, hits: ranked.hits.filter((h) => inForce(h.entry, day)) } };
  }

  /** The terms of a question and the ranked FAQ candidates with their figures and chances, without deciding. */
  explain(q: string, now: Date = new Date()): Explanation {
    const { terms, shares, corrections, ranked } = this.candidates(q, now);
    const ps = chances(this.confidence, candidateFigures(ranked.hits), questionFigures(ranked.question));
    return {
      terms: terms.map((term) => ({ term, weight: round(this.faq.weight(term) * (shares.get(term) ?? 1)) })),
      corrections,
      hits: ranked.hits.map((h, i) => ({
        id: h.entry.id, score: round(h.score), coverage: round(h.coverage), aboutness: round(h.aboutness), evidence: round(h.evidence),
        similarity: round(h.similarity), phrasing: round(h.phrasing), chance: ps[i] === undefined ? null : round(ps[i] as number),
      })),
    };
  }
}

/** What {@link SearchIndex.assemble} puts together. */
interface Parts {
  readonly entries: readonly Entry[];
  readonly analyzer: Analyzer;
  readonly lexicon: Lexicon;
  readonly confidence: Confidence;
  readonly faqIndex: () => lunr.Index;
  readonly statutes: () => StatuteSearch;
  readonly saved?: Pick<SerializedIndex, 'phrasings' | 'pinyin'>;
}

function savedParts(saved: SerializedIndex, entries: readonly Entry[], statutes: readonly Statute[], analyzer: Analyzer, lexicon: Lexicon, confidence: Confidence): Parts {
  return {
    entries, analyzer, lexicon, confidence, saved,
    faqIndex: () => lunr.Index.load(saved.faq),
    statutes: () => new StatuteSearch(statutes, PassageIndex.load(saved.passages), analyzer, lexicon),
  };
}

/** The calendar day in China (UTC+8, no daylight saving): valid_until 2027-12-31 ends at midnight Beijing time. */
export function chinaDay(now: Date): string {
  return new Date(now.getTime() + 8 * 3600_000).toISOString().slice(0, 10);
}

function inForce(entry: Entry, day: string): boolean {
  return (!entry.validFrom || entry.validFrom <= day) && (!entry.validUntil || entry.validUntil >= day);
}
