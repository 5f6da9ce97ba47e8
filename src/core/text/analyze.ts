import { normalize } from './normalize.js';

/** A segmentation function: text in, words out (nodejieba in production, anything in tests). */
export type Cut = (text: string) => string[];

/** The word lists that shape a query: all entries already normalised. */
export interface Lexicon {
  /** alias -> canonical form (个税 -> 个人所得税, 留底退税 -> 留抵退税). */
  readonly synonyms: ReadonlyMap<string, string>;
  /** Function words that carry no meaning for search (的, 吗, 怎么). */
  readonly stopwords: ReadonlySet<string>;
  /** Greetings, thanks and chit-chat: never evidence for an answer. */
  readonly smallTalk: ReadonlySet<string>;
}

/** What the analyzer makes of one message. */
export interface Analysis {
  /** The message after {@link normalize}. */
  readonly normalized: string;
  /** Content words in canonical form, in order, with repeats. */
  readonly terms: string[];
  /** True when the message holds small talk and nothing else. */
  readonly smallTalk: boolean;
}

const WORD = /[\p{Script=Han}a-z0-9]/u;

/** Turns text into search terms; the same function serves documents and queries. */
export interface Analyzer {
  analyze(text: string): Analysis;
  /** Terms of an already normalised text (documents are normalised once, then tokenised per field). */
  terms(normalizedText: string): string[];
}

/** Characters a term may keep: lunr reads `*` and `~` in a term as operators. */
const NOT_WORD = /[^\p{Script=Han}a-z0-9]/gu;

/** Builds an {@link Analyzer} over a segmenter and a lexicon. */
export function createAnalyzer(cut: Cut, lexicon: Lexicon): Analyzer {
  // Search-mode segmentation also emits the words inside a word (机器 inside 机器人), so small-talk
  // phrases are cut out of the text before segmenting rather than filtered out afterwards.
  const phrases = [...lexicon.smallTalk].filter((p) => p.length > 1).sort((a, b) => b.length - a.length);
  const withoutSmallTalk = (text: string): string => phrases.reduce((t, p) => (t.includes(p) ? t.split(p).join(' ') : t), text);
  const terms = (normalizedText: string): string[] =>
    cut(withoutSmallTalk(normalizedText))
      .map((w) => w.replace(NOT_WORD, ''))
      .filter((w) => w.length > 0 && WORD.test(w) && !lexicon.stopwords.has(w) && !lexicon.smallTalk.has(w))
      .map((w) => lexicon.synonyms.get(w) ?? w);

  return {
    terms,
    analyze(text) {
      const normalized = normalize(text);
      const found = terms(normalized);
      // One-character small talk (嗯, 早) is not cut out as a phrase, so it shows up only among the words.
      const hadSmallTalk = (): boolean =>
        withoutSmallTalk(normalized) !== normalized || cut(normalized).some((w) => lexicon.smallTalk.has(w.replace(NOT_WORD, '')));
      return { normalized, terms: found, smallTalk: found.length === 0 && hadSmallTalk() };
    },
  };
}
