import { pinyin } from 'pinyin-pro';

/** A stretch of a question read as a word of the knowledge that sounds the same. */
export interface Correction {
  /** What the user typed: Chinese characters (申暴) or pinyin letters (tuishui). */
  readonly from: string;
  /** The knowledge's word, in canonical form (申报, 退税). */
  readonly to: string;
}

/** A word of the knowledge: how it is written, its canonical form, and how many entries use it. */
export interface VocabularyWord {
  readonly surface: string;
  readonly canonical: string;
  readonly entries: number;
}

/** What the layer needs to know about words besides the knowledge's vocabulary. */
export interface WordTests {
  /** A word of the segmenter's dictionary: a real word (水费) is never read as a homophone (税费). */
  readonly isWord: (word: string) => boolean;
  /** A function word (怎么, 哪里): never part of a correction, and skipped in pinyin (zenme). */
  readonly isStopword: (word: string) => boolean;
}

/** Longest Chinese word of the knowledge looked for in a question. */
const MAX_WORD = 8;
/** Windows of this many characters are read by sound (a typo rarely hides in a longer word). */
const WINDOW_LENGTHS = [4, 3, 2] as const;
/** The most used candidate of one sound wins only when it is used this many times more than the next. */
const CLEAR_LEAD = 2;
const HAN = /\p{Script=Han}/u;
const HAN_RUN = /\p{Script=Han}+/gu;
/** Latin letters typed as pinyin: runs of letters with the spaces between them. */
const LATIN_RUN = /[a-z]+(?:\s+[a-z]+)*/gu;
/** Fewest letters read as pinyin: shorter ones are abbreviations (ok, ca) or single syllables. */
const MIN_LATIN = 4;

/** Toneless pinyin of each character, ü written v (as on a pinyin keyboard). */
function toneless(text: string): string[] {
  return pinyin(text, { toneType: 'none', type: 'array', v: true });
}

/**
 * The sound-alike layer: reads a stretch of a question that the knowledge does not know as a word
 * that it knows and that sounds the same, as a pinyin keyboard's slips make them (申暴 for 申报, 社宝
 * for 社保, 核顶 for 核定) and as people type pinyin letters for a word (tuishui, kaipiao).
 *
 * Chinese: a window of 2-4 characters holding at least one character that no known word of the
 * question covers, that cuts no known word in two, and that is neither a known word nor a real word
 * of the dictionary, is read as the knowledge word with the same toneless pinyin, when one such word
 * is clearly the most used. Latin: each run of letters (spaces between syllables allowed) is split
 * into the pinyin of knowledge words of two syllables or more and of function words.
 */
export class SoundAlike {
  /** Toneless pinyin, syllables joined -> canonical words with that sound and how many entries use them. */
  private readonly bySound = new Map<string, Map<string, number>>();
  /** Every written form of a knowledge word (canonical and aliases), Chinese only. */
  private readonly known = new Set<string>();
  /** Pinyin keys a run of Latin letters may be split into: knowledge words and function words. */
  private readonly latinKeys = new Map<string, string | null>();
  private readonly longestKey: number;
  /** Every syllable of the knowledge's words and function words. */
  private readonly syllables = new Set<string>();

  /** The pinyin of each word of the knowledge and function word, worked out once (a saved index carries it). */
  private readonly pinyin: Map<string, string[]>;

  constructor(
    vocabulary: Iterable<VocabularyWord>,
    private readonly tests: WordTests,
    stopwords: Iterable<string> = [],
    pinyin: ReadonlyMap<string, readonly string[]> = new Map(),
  ) {
    this.pinyin = new Map([...pinyin].map(([w, s]) => [w, [...s]]));
    const syllables = (word: string): string[] => {
      let known = this.pinyin.get(word);
      if (!known) this.pinyin.set(word, (known = toneless(word)));
      return known;
    };
    for (const { surface, canonical, entries } of vocabulary) {
      if (![...surface].every((ch) => HAN.test(ch))) continue;
      this.known.add(surface);
      for (const s of syllables(surface)) this.syllables.add(s);
      if (surface.length < 2) continue;
      const sound = syllables(surface).join('');
      let words = this.bySound.get(sound);
      if (!words) this.bySound.set(sound, (words = new Map()));
      words.set(canonical, Math.max(words.get(canonical) ?? 0, entries));
    }
    for (const [sound] of this.bySound) {
      const best = this.clearBest(sound);
      if (best) this.latinKeys.set(sound, best);
    }
    for (const w of stopwords) {
      if ([...w].every((ch) => HAN.test(ch))) for (const s of syllables(w)) this.syllables.add(s);
      if (w.length >= 2 && [...w].every((ch) => HAN.test(ch))) {
        const sound = syllables(w).join('');
        if (!this.latinKeys.has(sound)) this.latinKeys.set(sound, null);
      }
    }
    this.longestKey = Math.max(0, ...[...this.latinKeys.keys()].map((k) => k.length));
  }

  /** The pinyin of the knowledge's words and function words, to save with an index and skip working it out again. */
  toJSON(): Record<string, string> {
    return Object.fromEntries([...this.pinyin].map(([w, s]) => [w, s.join(' ')]));
  }

  /**
   * Whether Latin letters are one syllable of pinyin: unread, such a piece (zai, na, ma) is a
   * function word typed in pinyin, not a word of the question.
   */
  isSyllable(letters: string): boolean {
    return this.syllables.has(letters);
  }

  /** Corrections for a normalised question, in the order they occur. */
  correct(normalized: string): Correction[] {
    return [...this.correctHan(normalized), ...this.correctLatin(normalized)];
  }

  /** The canonical word most used among those with this sound, if it is clearly the most used. */
  private clearBest(sound: string): string | null {
    const words = this.bySound.get(sound);
    if (!words) return null;
    const [first, second] = [...words].sort((a, b) => b[1] - a[1]);
    if (!first) return null;
    return !second || first[1] >= CLEAR_LEAD * second[1] ? first[0] : null;
  }

  private correctHan(normalized: string): Correction[] {
    const found: { from: string; to: string; at: number }[] = [];
    for (const match of normalized.matchAll(HAN_RUN)) {
      const run = match[0];
      if (run.length < 2) continue;
      const cover = this.knownWords(run);
      const taken = new Array<boolean>(run.length).fill(false);
      for (const length of WINDOW_LENGTHS) {
        for (let i = 0; i + length <= run.length; i++) {
          if (taken.slice(i, i + length).some(Boolean)) continue;
          const to = this.readWindow(run, cover, i, length);
          if (!to) continue;
          found.push({ from: run.slice(i, i + length), to, at: match.index + i });
          taken.fill(true, i, i + length);
        }
      }
    }
    return found.sort((a, b) => a.at - b.at).map(({ from, to }) => ({ from, to }));
  }

  /**
   * For each character of a run, the start of the longest known word or function word over it found
   * left to right (-1: no known word), so that windows can tell unknown characters and whole words.
   */
  private knownWords(run: string): { start: number; end: number }[] {
    const cover = Array.from({ length: run.length }, () => ({ start: -1, end: -1 }));
    for (let i = 0; i < run.length; ) {
      let length = 0;
      for (let l = Math.min(MAX_WORD, run.length - i); l >= 1; l--) {
        const w = run.slice(i, i + l);
        if (this.known.has(w) || this.tests.isStopword(w)) {
          length = l;
          break;
        }
      }
      if (length === 0) {
        i++;
        continue;
      }
      for (let k = i; k < i + length; k++) cover[k] = { start: i, end: i + length };
      i += length;
    }
    return cover;
  }

  private readWindow(run: string, cover: { start: number; end: number }[], i: number, length: number): string | null {
    const window = run.slice(i, i + length);
    let unknown = 0;
    for (let k = i; k < i + length; k++) {
      const c = cover[k] as { start: number; end: number };
      if (c.start < 0) {
        unknown++;
        continue;
      }
      // A known word is taken whole or not at all; a function word never.
      if (c.start < i || c.end > i + length || this.tests.isStopword(run.slice(c.start, c.end))) return null;
    }
    if (unknown === 0 || this.known.has(window) || this.tests.isWord(window)) return null;
    return this.clearBest(toneless(window).join(''));
  }

  private correctLatin(normalized: string): Correction[] {
    const out: Correction[] = [];
    for (const match of normalized.matchAll(LATIN_RUN)) {
      const pieces = match[0].split(/\s+/u);
      if (pieces.join('').length < MIN_LATIN) continue;
      for (const { from, to } of this.readPinyin(pieces)) out.push({ from, to });
    }
    return out;
  }

  /**
   * Reads space-separated letters as pinyin words. A word may join whole pieces (ge shui) or lie
   * inside one piece (tuishuishenqing), never start or end inside a piece that it leaves (liudi
   * tuishui zai is 留抵退税 and an unread zai, not 留抵退 and 水灾); a piece that is no pinyin of a
   * known word is left unread. Fewest letters unread first, then fewest words.
   */
  private readPinyin(pieces: readonly string[]): { from: string; to: string }[] {
    const letters = pieces.join('');
    const pieceAt: number[] = [];
    const starts = new Set<number>([0]);
    pieces.forEach((p, i) => {
      for (let k = 0; k < p.length; k++) pieceAt.push(i);
      starts.add(pieceAt.length);
    });
    const allowed = (a: number, b: number): boolean => (starts.has(a) && starts.has(b)) || pieceAt[a] === pieceAt[b - 1];
    type Step = { unread: number; words: number; from: number; key: string | null };
    const best: (Step | null)[] = [{ unread: 0, words: 0, from: -1, key: null }];
    const better = (a: Step, b: Step | null): boolean => !b || a.unread < b.unread || (a.unread === b.unread && a.words < b.words);
    for (let end = 1; end <= letters.length; end++) {
      let step: Step | null = null;
      for (let start = Math.max(0, end - this.longestKey); start < end; start++) {
        const before = best[start];
        const key = letters.slice(start, end);
        if (!before || !allowed(start, end) || !this.latinKeys.has(key)) continue;
        const next = { unread: before.unread, words: before.words + 1, from: start, key };
        if (better(next, step)) step = next;
      }
      // A whole piece left unread.
      if (starts.has(end)) {
        const start = end - (pieces[pieceAt[end - 1] as number] as string).length;
        const before = best[start];
        if (before) {
          const next = { unread: before.unread + (end - start), words: before.words, from: start, key: null };
          if (better(next, step)) step = next;
        }
      }
      best[end] = step;
    }
    const read: { from: string; to: string }[] = [];
    for (let at = letters.length; at > 0; ) {
      const step = best[at] as Step;
      const word = step.key === null ? null : this.latinKeys.get(step.key);
      if (word) {
        const first = pieceAt[step.from] as number;
        const last = pieceAt[at - 1] as number;
        read.unshift({ from: pieces.slice(first, last + 1).join(' '), to: word });
      }
      at = step.from;
    }
    return read;
  }
}
