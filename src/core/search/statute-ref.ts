import type { Lexicon } from '../text/analyze.js';
import type { Statute } from './types.js';

/** An article number as statutes and users write it: Chinese numerals or digits. */
export const NUMERAL = '[零〇一二两三四五六七八九十百千\\d]+';
const ARTICLE_REF = new RegExp(`第(${NUMERAL})条`, 'u');
const NAME_ONLY_PREFIX = /^中华人民共和国/u;
const DIGITS: Record<string, number> = { 零: 0, 〇: 0, 一: 1, 二: 2, 两: 2, 三: 3, 四: 4, 五: 5, 六: 6, 七: 7, 八: 8, 九: 9 };
const UNITS: Record<string, number> = { 十: 10, 百: 100, 千: 1000 };

/** The article number of a document without numbered articles, held as one passage (cited as 全文). */
export const WHOLE_TEXT = 0;

/** How a passage is cited after the statute's title: 第五十一条, or 全文 for a document without articles. */
export function articleLabel(article: number): string {
  return article === WHOLE_TEXT ? '全文' : `第${toChineseNumber(article)}条`;
}

/** Reads a number written in Chinese numerals (五十一 -> 51, 一百零二 -> 102) or Arabic digits; NaN if it is neither. */
export function parseChineseNumber(text: string): number {
  if (/^\d+$/.test(text)) return Number(text);
  let total = 0;
  let digit = 0;
  for (const ch of text) {
    if (ch in DIGITS) digit = DIGITS[ch] as number;
    else if (ch in UNITS) {
      total += (digit === 0 ? 1 : digit) * (UNITS[ch] as number);
      digit = 0;
    } else return Number.NaN;
  }
  return text ? total + digit : Number.NaN;
}

/** Writes an article number the way statutes do (51 -> 五十一). */
export function toChineseNumber(n: number): string {
  const digits = '零一二三四五六七八九';
  if (n < 10) return digits[n] as string;
  if (n < 20) return `十${n % 10 ? digits[n % 10] : ''}`;
  if (n < 100) return `${digits[Math.floor(n / 10)]}十${n % 10 ? digits[n % 10] : ''}`;
  const rest = n % 100;
  const tail = rest === 0 ? '' : rest < 10 ? `零${digits[rest]}` : rest < 20 ? `一${toChineseNumber(rest)}` : toChineseNumber(rest);
  if (n < 1000) return `${digits[Math.floor(n / 100)]}百${tail}`;
  const restK = n % 1000;
  const tailK = restK === 0 ? '' : restK < 10 ? `零${digits[restK]}` : restK < 20 ? `零一${toChineseNumber(restK)}` : restK < 100 ? `零${toChineseNumber(restK)}` : toChineseNumber(restK);
  return `${digits[Math.floor(n / 1000)]}千${tailK}`;
}

/** The short name of a statute: its title without 中华人民共和国. */
export function shortTitle(title: string): string {
  return title.replace(NAME_ONLY_PREFIX, '');
}

/**
 * Every name a user may call a statute by: its title, the title without 中华人民共和国, explicit
 * synonyms of that short title (征管法 for 税收征收管理法), and the short title with any synonym
 * canonical form replaced by its aliases (个人所得税法 -> 个税法).
 */
export function statuteNames(title: string, lexicon: Lexicon): string[] {
  const short = shortTitle(title);
  const names = new Set([title, short]);
  for (const [alias, canonical] of lexicon.synonyms) {
    if (canonical === short) names.add(alias);
    else if (canonical.length >= 2 && short.includes(canonical)) names.add(short.replace(canonical, alias));
  }
  return [...names];
}

/** A reference to a statute found in a question: which statute and, if named, which article. */
export interface StatuteRef {
  readonly statute: Statute;
  readonly article: number | null;
}

/** Finds statutes by name in normalised text; the longest name wins (个人所得税法实施条例 over 个人所得税法). */
export class StatuteNames {
  private readonly byName: [string, Statute][];

  constructor(statutes: readonly Statute[], lexicon: Lexicon) {
    const byName = new Map<string, Statute>();
    for (const s of statutes) for (const name of statuteNames(s.title, lexicon)) byName.set(name, s);
    this.byName = [...byName].sort((a, b) => b[0].length - a[0].length);
  }

  /** The statute and article a question names, or null when it names no statute. */
  find(normalized: string): StatuteRef | null {
    const hit = this.byName.find(([name]) => normalized.includes(name));
    if (!hit) return null;
    const rest = normalized.slice(normalized.indexOf(hit[0]) + hit[0].length);
    const m = ARTICLE_REF.exec(rest) ?? ARTICLE_REF.exec(normalized);
    const article = m ? parseChineseNumber(m[1] as string) : Number.NaN;
    return { statute: hit[1], article: Number.isFinite(article) ? article : null };
  }
}
