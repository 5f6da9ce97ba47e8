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
/** Most space-separated pieces read as one word (ge shui hui suan). */
const MAX_LATIN_PIECES = 4;
/** Fewest letters read as pinyin: shorter ones are abbreviations (ok, ca) or single syllables. */
const MIN_LATIN = 4;

/** Toneless pinyin of each character, ü written v (as on a pinyin keyboard). */
function syllables(text: string): string[] {
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

  constructor(
    vocabulary: Iterable<VocabularyWord>,
    private readonly tests: WordTests,
    stopwords: Iterable<string> = [],
  ) {
    for (const { surface, canonical, entries } of vocabulary) {
      if (![...surface].every((ch) => HAN.test(ch))) continue;
      this.known.add(surface);
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
      if (w.length >= 2 && [...w].every((ch) => HAN.test(ch))) {
        const sound = syllables(w).join('');
        if (!this.latinKeys.has(sound)) this.latinKeys.set(sound, null);
      }
    }
    this.longestKey = Math.max(0, ...[...this.latinKeys.keys()].map((k) => k.length));
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
      for (let l = Math.min(MAX_WORD, run.length - i); l >= 2; l--) {
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
    return this.clearBest(syllables(window).join(''));
  }

  private correctLatin(normalized: string): Correction[] {
    const out: Correction[] = [];
    for (const match of normalized.matchAll(LATIN_RUN)) {
      const pieces = match[0].split(/\s+/u);
      for (let i = 0; i < pieces.length; ) {
        let read = 0;
        for (let n = Math.min(MAX_LATIN_PIECES, pieces.length - i); n >= 1 && read === 0; n--) {
          const letters = pieces.slice(i, i + n).join('');
          const words = letters.length >= MIN_LATIN ? this.splitPinyin(letters) : null;
          if (!words) continue;
          const from = pieces.slice(i, i + n).join(' ');
          for (const to of words) out.push({ from, to });
          read = n;
        }
        i += Math.max(read, 1);
      }
    }
    return out;
  }

  /** Splits letters wholly into pinyin keys, fewest pieces first; the knowledge words among them, or null. */
  private splitPinyin(letters: string): string[] | null {
    // best[i]: fewest keys covering letters[0, i), with the path.
    const best: ({ pieces: number; from: number; key: string } | null)[] = [{ pieces: 0, from: -1, key: '' }];
    for (let end = 1; end <= letters.length; end++) {
      best[end] = null;
      for (let start = Math.max(0, end - this.longestKey); start < end; start++) {
        const before = best[start];
        const key = letters.slice(start, end);
        if (!before || !this.latinKeys.has(key)) continue;
        if (!best[end] || before.pieces + 1 < (best[end] as { pieces: number }).pieces) best[end] = { pieces: before.pieces + 1, from: start, key };
      }
    }
    const words: string[] = [];
    for (let at = letters.length; at > 0; ) {
      const step = best[at];
      if (!step) return null;
      const word = this.latinKeys.get(step.key);
      if (word) words.unshift(word);
      at = step.from;
    }
    return words.length > 0 ? words : null;
  }
}
