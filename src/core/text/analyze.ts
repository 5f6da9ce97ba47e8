import { normalize } from './normalize.js';

/** A segmentation function: text in, words out (nodejieba in production, anything in tests). */
export type Cut = (text: string) => string[];

/** A segmenter and its dictionary. */
export interface Segmenter {
  readonly cut: Cut;
  /**
   * Whether a word is in the segmenter's dictionary as it stands (a real word such as 水费, not an
   * unknown sequence such as 社宝 that only its HMM would join): the sound-alike layer never
   * "corrects" a real word into a homophone from the knowledge.
   */
  readonly isWord: (word: string) => boolean;
  /**
   * How specific a word is in everyday Chinese: its inverse document frequency over a general corpus
   * (公司 3.5, 二手房 8.2, 契税 9.8), or the corpus median for a word it does not know.
   */
  readonly specificity: (word: string) => number;
}

/** The specificity assumed when a segmenter has no general corpus: every word alike. */
export const MEDIAN_SPECIFICITY = 11.7;

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
  /** True when the message holds small talk, with or without a question (老师好，想问下……). */
  readonly greets: boolean;
}

const WORD = /[\p{Script=Han}a-z0-9]/u;
const HAN_WORD = /^\p{Script=Han}+$/u;

/** Turns text into search terms; the same function serves documents and queries. */
export interface Analyzer {
  analyze(text: string): Analysis;
  /** Terms of an already normalised text (documents are normalised once, then tokenised per field). */
  terms(normalizedText: string): string[];
  /** Whether a word is a word of the segmenter's dictionary ({@link Segmenter.isWord}). */
  isWord(word: string): boolean;
  /** How specific a word is in everyday Chinese ({@link Segmenter.specificity}). */
  specificity(word: string): number;
  /** The canonical form of a word (itself when it is no alias). */
  canonical(word: string): string;
  /** Whether a word, in canonical form, carries no meaning for search. */
  isStopword(word: string): boolean;
}

/** Characters a term may keep: lunr reads `*` and `~` in a term as operators. */
const NOT_WORD = /[^\p{Script=Han}a-z0-9]/gu;

/**
 * Builds an {@link Analyzer} over a segmenter (or a bare cut function, whose dictionary is then
 * taken to know no words) and a lexicon.
 */
export function createAnalyzer(segmenter: Segmenter | Cut, lexicon: Lexicon): Analyzer {
  const { cut, isWord, specificity } = typeof segmenter === 'function' ? { cut: segmenter, isWord: () => false, specificity: () => MEDIAN_SPECIFICITY } : segmenter;
  const canonical = (w: string): string => lexicon.synonyms.get(w) ?? w;
  // Search-mode segmentation also emits the words inside a word (机器 inside 机器人), so small-talk
  // phrases are cut out of the text before segmenting rather than filtered out afterwards.
  const phrases = [...lexicon.smallTalk].filter((p) => p.length > 1).sort((a, b) => b.length - a.length);
  const withoutSmallTalk = (text: string): string => phrases.reduce((t, p) => (t.includes(p) ? t.split(p).join(' ') : t), text);
  // Aliases are replaced before stop words are dropped, so that a colloquial word mapped to a
  // standard function word (咋个 -> 怎么) is dropped like it.
  // The HMM joins a particle to the word before it when neither is in the dictionary as a pair (办伐,
  // 交了): a sequence the dictionary does not know sheds the function characters at its ends.
  const isParticle = (ch: string): boolean => lexicon.stopwords.has(canonical(ch));
  const shed = (w: string): string => {
    if (w.length < 2 || isWord(w) || !HAN_WORD.test(w)) return w;
    let from = 0;
    let to = w.length;
    while (to - from > 1 && isParticle(w[to - 1] as string)) to--;
    while (to - from > 1 && isParticle(w[from] as string)) from++;
    return w.slice(from, to);
  };
  const words = (text: string): string[] => cut(text).map((w) => shed(w.replace(NOT_WORD, '')));
  const keep = (tokens: readonly string[]): string[] =>
    tokens.map(canonical).filter((w) => w.length > 0 && WORD.test(w) && !lexicon.stopwords.has(w) && !lexicon.smallTalk.has(w));
  const terms = (normalizedText: string): string[] => keep(words(withoutSmallTalk(normalizedText)));

  return {
    terms,
    isWord,
    specificity,
    canonical,
    isStopword: (w) => lexicon.stopwords.has(w) || lexicon.smallTalk.has(w),
    analyze(text) {
      const normalized = normalize(text);
      const stripped = withoutSmallTalk(normalized);
      const tokens = words(stripped);
      const found = keep(tokens);
      // One-character small talk (嗯, 早) is not cut out as a phrase, so it shows up only among the words.
      const greets = stripped !== normalized || tokens.some((w) => lexicon.smallTalk.has(w));
      return { normalized, terms: found, smallTalk: found.length === 0 && greets, greets };
    },
  };
}
