import { stripMentions } from '../text/normalize.js';

/**
 * The unanswered inbox: questions the bot declined or was unsure about, grouped by what they ask.
 * A question's key is its content words as the search index's analyzer sees them (synonyms made
 * canonical, function words and small talk dropped), unique and sorted: 发票丢了怎么办 and 发票丢失
 * 咋办 get the same key when 丢了/丢失 are synonyms. Keys are counted as questions arrive; grouping
 * similar keys happens when the inbox is read.
 */

/** Why an answer was not given, for which the question belongs in the inbox (not small talk or an empty message). */
export const INBOX_REASONS: readonly string[] = ['uncertain', 'no_match'];

/** Words of a key at most: a long message keeps its first words, enough to tell what it asks. */
const KEY_TERMS = 12;

/** The key of a question from its analyzed terms; null when nothing in it carries meaning. */
export function questionKey(terms: readonly string[]): string | null {
  const unique = [...new Set(terms.filter((t) => t.length > 0 && !/\s/.test(t)))].slice(0, KEY_TERMS).sort();
  return unique.length > 0 ? unique.join(' ') : null;
}

/** One key's counts, as stored. */
export interface KeyCount {
  readonly key: string;
  readonly count: number;
  readonly firstAt: Date;
  readonly lastAt: Date;
}

/** Keys that ask the same thing. */
export interface QuestionGroup {
  /** Stable while the group's most asked key stays the same: the hash of that key. */
  readonly id: string;
  /** Most asked first. */
  readonly keys: string[];
  readonly count: number;
  readonly firstAt: Date;
  readonly lastAt: Date;
}

/** Two keys are the same question when they share at least this part of their words (Jaccard). */
export const SIMILARITY = 0.5;

/** 32-bit FNV-1a of a text's UTF-16 units, from `seed`. */
function fnv(text: string, seed: number): number {
  let h = seed;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

/** A group's id from its leading key: 16 hex digits, safe in a URL. */
export function groupId(key: string): string {
  return fnv(key, 0x811c9dc5).toString(16).padStart(8, '0') + fnv(key, 0x01234567).toString(16).padStart(8, '0');
}

/** How many of a set's words (rarest first) must be looked up to find every set at least {@link SIMILARITY} like it. */
function prefixLength(size: number): number {
  return size - Math.ceil(SIMILARITY * size) + 1;
}

/**
 * Groups keys greedily, most asked first: a key joins the group whose leading key it is most similar
 * to (at least {@link SIMILARITY}), or leads a new one. Candidates are found by prefix filtering:
 * with words ordered rarest first, two sets that similar always share a word among their first few,
 * so each key is compared only with the groups indexed under those words, and common words (发票)
 * never make every key meet every group. Words are numbered once and the key being placed is marked
 * in one array, so a comparison is a few array reads. Groups come out largest first, then newest.
 */
export function groupQuestions(keys: readonly KeyCount[]): QuestionGroup[] {
  const ids = new Map<string, number>();
  const frequency: number[] = [];
  const wordsOf = keys.map((k) => {
    const words: number[] = [];
    for (const w of k.key.split(' ')) {
      let id = ids.get(w);
      if (id === undefined) {
        id = ids.size;
        ids.set(w, id);
        frequency.push(0);
      }
      if (words.includes(id)) continue;
      words.push(id);
      frequency[id] = (frequency[id] as number) + 1;
    }
    return words;
  });
  for (const words of wordsOf) words.sort((a, b) => (frequency[a] as number) - (frequency[b] as number) || a - b);
  const order = keys.map((_, i) => i).sort((a, b) => {
    const x = keys[a] as KeyCount;
    const y = keys[b] as KeyCount;
    return y.count - x.count || y.lastAt.getTime() - x.lastAt.getTime() || (x.key < y.key ? -1 : 1);
  });
  const leads: number[][] = [];
  const members: number[][] = [];
  // The groups indexed under each word, by word id (the inner loops are plain array reads).
  const byWord: number[][] = Array.from({ length: ids.size }, () => []);
  // seen[g] === k + 1: group g was compared with key k already; mark[w] === k + 1: key k has word w.
  const seen = new Int32Array(keys.length);
  const mark = new Int32Array(ids.size);
  for (const k of order) {
    const words = wordsOf[k] as number[];
    const stamp = k + 1;
    for (const w of words) mark[w] = stamp;
    const prefix = prefixLength(words.length);
    let best = -1;
    let bestScore = SIMILARITY;
    for (let p = 0; p < prefix; p++) {
      const list = byWord[words[p] as number] as number[];
      for (let c = 0; c < list.length; c++) {
        const g = list[c] as number;
        if (seen[g] === stamp) continue;
        seen[g] = stamp;
        const lead = leads[g] as number[];
        let shared = 0;
        for (let i = 0; i < lead.length; i++) if (mark[lead[i] as number] === stamp) shared++;
        const score = shared / (words.length + lead.length - shared);
        if (score >= bestScore) {
          bestScore = score;
          best = g;
        }
      }
    }
    if (best >= 0) {
      (members[best] as number[]).push(k);
      continue;
    }
    const g = leads.push(words) - 1;
    members.push([k]);
    for (let p = 0; p < prefix; p++) (byWord[words[p] as number] as number[]).push(g);
  }
  return members
    .map((m) => {
      const group = m.map((i) => keys[i] as KeyCount);
      return {
        id: groupId((group[0] as KeyCount).key),
        keys: group.map((k) => k.key),
        count: group.reduce((n, k) => n + k.count, 0),
        firstAt: new Date(group.reduce((t, k) => Math.min(t, k.firstAt.getTime()), Infinity)),
        lastAt: new Date(group.reduce((t, k) => Math.max(t, k.lastAt.getTime()), -Infinity)),
      };
    })
    .sort((a, b) => b.count - a.count || b.lastAt.getTime() - a.lastAt.getTime() || (a.id < b.id ? -1 : 1));
}

/** What a mask left in a stored text (core/text/mask.ts): such a text is no phrasing to publish. */
const MASKED = /\[(?:手机号|身份证号|统一社会信用代码|银行卡号)\]/;
/** A phrasing longer than this is a story, not a question to learn. */
const PHRASING_MAX = 60;

/**
 * The phrasings to teach an entry from a group's example questions: @mentions taken off, each
 * distinct one once, none with a masked number or longer than a question, at most `n`.
 */
export function phrasingsFrom(texts: readonly string[], n: number): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  for (const text of texts) {
    const q = stripMentions(text).trim();
    if (!q || q.length > PHRASING_MAX || MASKED.test(q) || seen.has(q)) continue;
    seen.add(q);
    out.push(q);
    if (out.length === n) break;
  }
  return out;
}
