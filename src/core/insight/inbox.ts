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
  readonly keys: string[];
  readonly count: number;
  readonly firstAt: Date;
  readonly lastAt: Date;
}

/** Two keys are the same question when they share at least this part of their words (Jaccard). */
export const SIMILARITY = 0.5;

function jaccard(a: ReadonlySet<string>, b: ReadonlySet<string>): number {
  let shared = 0;
  for (const w of a) if (b.has(w)) shared++;
  return shared / (a.size + b.size - shared);
}

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
 * never make every key meet every group. Groups come out largest first, then newest.
 */
export function groupQuestions(keys: readonly KeyCount[]): QuestionGroup[] {
  const frequency = new Map<string, number>();
  const wordsOf = new Map<string, string[]>();
  for (const k of keys) {
    const words = [...new Set(k.key.split(' '))];
    wordsOf.set(k.key, words);
    for (const w of words) frequency.set(w, (frequency.get(w) ?? 0) + 1);
  }
  const rarestFirst = (a: string, b: string): number => (frequency.get(a) ?? 0) - (frequency.get(b) ?? 0) || (a < b ? -1 : a > b ? 1 : 0);
  const sorted = [...keys].sort((a, b) => b.count - a.count || b.lastAt.getTime() - a.lastAt.getTime() || (a.key < b.key ? -1 : 1));
  const groups: { lead: Set<string>; members: KeyCount[] }[] = [];
  const byWord = new Map<string, number[]>();
  for (const k of sorted) {
    const words = (wordsOf.get(k.key) as string[]).sort(rarestFirst);
    const set = new Set(words);
    const prefix = words.slice(0, prefixLength(words.length));
    let best = -1;
    let bestScore = SIMILARITY;
    const seen = new Set<number>();
    for (const w of prefix) {
      for (const g of byWord.get(w) ?? []) {
        if (seen.has(g)) continue;
        seen.add(g);
        const score = jaccard(set, (groups[g] as { lead: Set<string> }).lead);
        if (score >= bestScore) {
          bestScore = score;
          best = g;
        }
      }
    }
    if (best >= 0) {
      (groups[best] as { members: KeyCount[] }).members.push(k);
      continue;
    }
    const index = groups.push({ lead: set, members: [k] }) - 1;
    for (const w of prefix) {
      const list = byWord.get(w);
      if (list) list.push(index);
      else byWord.set(w, [index]);
    }
  }
  return groups
    .map(({ members }) => ({
      id: groupId((members[0] as KeyCount).key),
      keys: members.map((m) => m.key),
      count: members.reduce((n, m) => n + m.count, 0),
      firstAt: new Date(members.reduce((t, m) => Math.min(t, m.firstAt.getTime()), Infinity)),
      lastAt: new Date(members.reduce((t, m) => Math.max(t, m.lastAt.getTime()), -Infinity)),
    }))
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
