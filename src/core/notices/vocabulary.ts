/**
 * The words a taxpayer profile is made of, and how the many ways staff write them in their
 * spreadsheets are read back to one stored form: 小规模 and 小规模纳税人 are one type, "C 制造业",
 * "制造业", "C" and the class code "3990" one industry section, "A级" and "Ａ" one credit grade.
 */

/** The taxpayer types of issue 10, in the order staff read them. */
export const TAXPAYER_TYPES = ['一般纳税人', '小规模纳税人', '个体工商户', '自然人'] as const;

/** One of {@link TAXPAYER_TYPES}. */
export type TaxpayerType = (typeof TAXPAYER_TYPES)[number];

/**
 * Words that name a group of taxpayer types. Knowledge entries target `企业` (a company, whether a
 * general or a small-scale VAT taxpayer: a profile records the VAT status, not the legal form, and
 * 个体工商户 and 自然人 are kept apart from both), so the group is read as its members.
 */
export const TAXPAYER_TYPE_GROUPS: Readonly<Record<string, readonly TaxpayerType[]>> = {
  企业: ['一般纳税人', '小规模纳税人'],
  单位: ['一般纳税人', '小规模纳税人'],
};

const TAXPAYER_TYPE_ALIASES: Readonly<Record<string, TaxpayerType>> = {
  一般纳税人: '一般纳税人', 一般: '一般纳税人', 增值税一般纳税人: '一般纳税人',
  小规模纳税人: '小规模纳税人', 小规模: '小规模纳税人', 增值税小规模纳税人: '小规模纳税人',
  个体工商户: '个体工商户', 个体户: '个体工商户', 个体: '个体工商户',
  自然人: '自然人', 个人: '自然人',
};

/** Credit grades of 纳税缴费信用 (A best, D worst; M for new businesses). */
export const CREDIT_GRADES = ['A', 'B', 'M', 'C', 'D'] as const;

/** One of {@link CREDIT_GRADES}. */
export type CreditGrade = (typeof CREDIT_GRADES)[number];

/** A section (门类) of 国民经济行业分类 (GB/T 4754-2017) and the divisions (大类, two-digit codes) it holds. */
export interface IndustrySection {
  readonly code: string;
  readonly name: string;
  readonly divisions: readonly [number, number];
}

/** The twenty sections A-T with their division ranges. */
export const INDUSTRY_SECTIONS: readonly IndustrySection[] = [
  { code: 'A', name: '农、林、牧、渔业', divisions: [1, 5] },
  { code: 'B', name: '采矿业', divisions: [6, 12] },
  { code: 'C', name: '制造业', divisions: [13, 43] },
  { code: 'D', name: '电力、热力、燃气及水生产和供应业', divisions: [44, 46] },
  { code: 'E', name: '建筑业', divisions: [47, 50] },
  { code: 'F', name: '批发和零售业', divisions: [51, 52] },
  { code: 'G', name: '交通运输、仓储和邮政业', divisions: [53, 60] },
  { code: 'H', name: '住宿和餐饮业', divisions: [61, 62] },
  { code: 'I', name: '信息传输、软件和信息技术服务业', divisions: [63, 65] },
  { code: 'J', name: '金融业', divisions: [66, 69] },
  { code: 'K', name: '房地产业', divisions: [70, 70] },
  { code: 'L', name: '租赁和商务服务业', divisions: [71, 72] },
  { code: 'M', name: '科学研究和技术服务业', divisions: [73, 75] },
  { code: 'N', name: '水利、环境和公共设施管理业', divisions: [76, 79] },
  { code: 'O', name: '居民服务、修理和其他服务业', divisions: [80, 82] },
  { code: 'P', name: '教育', divisions: [83, 83] },
  { code: 'Q', name: '卫生和社会工作', divisions: [84, 85] },
  { code: 'R', name: '文化、体育和娱乐业', divisions: [86, 90] },
  { code: 'S', name: '公共管理、社会保障和社会组织', divisions: [91, 96] },
  { code: 'T', name: '国际组织', divisions: [97, 97] },
];

/** A section as staff read it: "C 制造业". */
export function industryLabel(code: string): string {
  const section = INDUSTRY_SECTIONS.find((s) => s.code === code);
  return section ? `${section.code} ${section.name}` : code;
}

/**
 * Text as typed into a spreadsheet, made comparable: every kind of space collapsed, a leading
 * apostrophe (Excel's "treat as text" mark) dropped. Names keep their punctuation as typed
 * (a full-width comma stays one).
 */
export function cleanCell(raw: string): string {
  return raw.replace(/^'/, '').replace(/[\s\u3000]+/g, ' ').trim();
}

/** A code as typed, with full-width letters and digits (Ａ, ９) folded to their plain forms (NFKC). */
function cleanCode(raw: string): string {
  return cleanCell(raw.normalize('NFKC'));
}

/** A name without the joining words and punctuation people leave out or add: 批发和零售业 ~ 批发零售业 ~ 批发、零售. */
function loose(text: string): string {
  return text.replace(/[\s、，,.·/和及与]/g, '').replace(/业$/, '');
}

/** Short names staff use for a whole section (their own names are read too, with or without 和、及). */
const SECTION_SHORT_NAMES: Readonly<Record<string, string>> = {
  农业: 'A', 农林牧渔: 'A', 采矿: 'B', 批发: 'F', 零售: 'F', 商贸: 'F', 交通运输: 'G', 物流: 'G', 住宿: 'H', 餐饮: 'H',
  软件信息技术服务: 'I', 信息技术服务: 'I', 租赁商务服务: 'L', 商务服务: 'L', 科技服务: 'M', 居民服务: 'O', 文化体育娱乐: 'R',
};

const SECTION_BY_LOOSE_NAME = new Map([...INDUSTRY_SECTIONS.map((s) => [loose(s.name), s.code] as const), ...Object.entries(SECTION_SHORT_NAMES).map(([short, code]) => [loose(short), code] as const)]);

/** A reading of one cell: the stored value, or why the text is not one. */
export type Reading<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly message: string };

const fail = (message: string): { ok: false; message: string } => ({ ok: false, message });

/** A taxpayer type from what staff write (小规模, 个体户 ...). */
export function readTaxpayerType(raw: string): Reading<TaxpayerType> {
  const text = cleanCode(raw).replace(/\s/g, '');
  const type = TAXPAYER_TYPE_ALIASES[text];
  return type ? { ok: true, value: type } : fail(`应为 ${TAXPAYER_TYPES.join('、')} 之一，现为“${raw.trim()}”`);
}

/** Words meaning "no grade yet": read as an empty cell. */
const UNGRADED = new Set(['未评价', '未评级', '未评', '无', '-', '—', '/']);

/** A credit grade from "A", "A级", "ａ"; null for an empty cell or 未评价. */
export function readCredit(raw: string): Reading<CreditGrade | null> {
  const text = cleanCode(raw).replace(/\s/g, '').toUpperCase();
  if (text === '' || UNGRADED.has(text)) return { ok: true, value: null };
  const grade = text.replace(/级$/, '');
  return (CREDIT_GRADES as readonly string[]).includes(grade) ? { ok: true, value: grade as CreditGrade } : fail(`应为 ${CREDIT_GRADES.join('、')} 之一（可以不填），现为“${raw.trim()}”`);
}

/**
 * An industry section's letter from any of: the letter ("C"), the letter with the name
 * ("C 制造业", "C制造业"), the name alone ("制造业", "批发零售业"), or a division or class code with
 * or without its letter ("13", "3990", "C3990"), whose first two digits give the section. Null for
 * an empty cell. A letter that disagrees with its code or name is refused rather than guessed.
 */
export function readIndustry(raw: string): Reading<string | null> {
  const text = cleanCode(raw);
  if (text === '') return { ok: true, value: null };
  const wrong = fail(`应为国民经济行业门类 A-T，如“C 制造业”“制造业”或“C”，现为“${raw.trim()}”`);
  // A letter counts as the section's only when no other Latin letter follows ("IC设计" is a name).
  const parts = /^([A-Za-z](?![A-Za-z]))?\s*(\d{2,4})?\s*(.*)$/.exec(text) as RegExpExecArray;
  const letter = parts[1]?.toUpperCase();
  const digits = parts[2];
  const name = (parts[3] ?? '').trim();
  const found = new Set<string>();
  if (letter) {
    if (!INDUSTRY_SECTIONS.some((s) => s.code === letter)) return wrong;
    found.add(letter);
  }
  if (digits) {
    const division = Number(digits.slice(0, 2));
    const section = INDUSTRY_SECTIONS.find((s) => division >= s.divisions[0] && division <= s.divisions[1]);
    if (!section) return wrong;
    found.add(section.code);
  }
  if (name) {
    // With a code before it, the name may be a finer class ("3990 其他未列明制造业"): the code decides.
    const byName = SECTION_BY_LOOSE_NAME.get(loose(name));
    if (byName) found.add(byName);
    else if (!letter && !digits) return wrong;
  }
  if (found.size !== 1) return fail(`门类字母、代码和名称不一致：“${raw.trim()}”`);
  return { ok: true, value: [...found][0] as string };
}

/** Characters of a unified social credit code (GB 32100-2015): digits and capitals without I, O, S, V, Z. */
const USCC_CHARS = '0123456789ABCDEFGHJKLMNPQRTUWXY';
const USCC_WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28];
const ID_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];

/** Whether an 18-character code carries a valid unified social credit code check character. */
function usccValid(code: string): boolean {
  let sum = 0;
  for (let i = 0; i < 17; i++) {
    const value = USCC_CHARS.indexOf(code[i] as string);
    if (value < 0) return false;
    sum += value * (USCC_WEIGHTS[i] as number);
  }
  return USCC_CHARS[(31 - (sum % 31)) % 31] === code[17];
}

/** Whether an 18-character code is a resident identity number (GB 11643-1999) with a valid check character. */
function residentIdValid(code: string): boolean {
  if (!/^\d{17}[\dX]$/.test(code)) return false;
  let sum = 0;
  for (let i = 0; i < 17; i++) sum += Number(code[i]) * (ID_WEIGHTS[i] as number);
  return '10X98765432'[sum % 11] === code[17];
}

/**
 * A taxpayer id (纳税人识别号) in its stored form: capitals, no spaces. Companies and individual
 * businesses have an 18-character unified social credit code, natural persons their 18-character
 * identity number; older registrations have 15, 17 or 20 characters. An 18-character id must carry
 * a valid check character of either kind: a mistyped digit would otherwise create a second profile
 * for the same taxpayer instead of updating the first. A number Excel turned into scientific
 * notation (9.13701E+17) is named as such, since that is what staff need to fix.
 */
export function readTaxpayerId(raw: string): Reading<string> {
  const text = cleanCode(raw).replace(/[\s-]/g, '').toUpperCase();
  if (text === '') return fail('不能为空');
  if (/^\d(\.\d+)?E\+\d+$/.test(text)) return fail(`被 Excel 显示成了科学计数法（${raw.trim()}），请把这一列设为“文本”格式、重新填写识别号后再导出`);
  if (!/^[0-9A-Z]+$/.test(text)) return fail(`只能由数字和大写字母组成，现为“${raw.trim()}”`);
  if (![15, 17, 18, 20].includes(text.length)) return fail(`应为 15、17、18 或 20 位，现为 ${text.length} 位`);
  if (text.length === 18 && !usccValid(text) && !residentIdValid(text)) return fail(`校验位不正确，请核对（${text}）`);
  return { ok: true, value: text };
}

/** Longest office, region and name texts, and the most and longest tags a profile keeps. */
export const LIMITS = { name: 100, place: 50, tag: 20, tags: 20 } as const;

/** A piece of text for a named place (主管分局, 地区): cleaned, at most {@link LIMITS}.place characters; null when empty. */
export function readPlace(raw: string): Reading<string | null> {
  const text = cleanCell(raw);
  if (text === '') return { ok: true, value: null };
  if ([...text].length > LIMITS.place) return fail(`太长，最多 ${LIMITS.place} 个字`);
  return { ok: true, value: text };
}

/** A taxpayer's name: required, at most {@link LIMITS}.name characters, no control characters. */
export function readName(raw: string): Reading<string> {
  const text = cleanCell(raw);
  if (text === '') return fail('不能为空');
  if ([...text].length > LIMITS.name) return fail(`太长，最多 ${LIMITS.name} 个字`);
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f-\u009f]/.test(text)) return fail('不能包含控制字符');
  return { ok: true, value: text };
}

/**
 * Free tags from one cell ("制造业重点户、出口企业") or a list: split on the separators people use
 * (、，,;；| and spaces), cleaned, duplicates dropped, in the order given.
 */
export function readTags(raw: string | readonly string[]): Reading<string[]> {
  const pieces = typeof raw === 'string' ? raw.split(/[、，,;；|｜\s\u3000]+/) : raw;
  const tags: string[] = [];
  for (const piece of pieces) {
    const tag = cleanCell(piece);
    if (tag === '' || tags.includes(tag)) continue;
    if ([...tag].length > LIMITS.tag) return fail(`标签“${tag}”太长，每个最多 ${LIMITS.tag} 个字`);
    tags.push(tag);
  }
  if (tags.length > LIMITS.tags) return fail(`标签太多，最多 ${LIMITS.tags} 个`);
  return { ok: true, value: tags };
}

const DIGITS: Readonly<Record<string, number>> = { 零: 0, 一: 1, 二: 2, 两: 2, 三: 3, 四: 4, 五: 5, 六: 6, 七: 7, 八: 8, 九: 9 };

/** A number written in Chinese up to 99 (一, 十二, 二十, 九十九) as digits; other text as it is. */
function chineseNumber(text: string): string {
  const [tens, ones] = text.includes('十') ? text.split('十') : ['', text];
  if (!text.includes('十')) return String(DIGITS[ones as string] ?? text);
  return String((tens ? (DIGITS[tens] ?? 0) : 1) * 10 + (ones ? (DIGITS[ones] ?? 0) : 0));
}

/**
 * The order staff expect for names of offices and places: 第一分局, 第二分局 ... 第十分局 by their
 * numbers (pinyin would put 第二 before 第一), the rest in pinyin order.
 */
export function placeOrder(a: string, b: string): number {
  const key = (s: string): string => s.replace(/[零一二两三四五六七八九十]+/g, chineseNumber);
  return key(a).localeCompare(key(b), 'zh-CN', { numeric: true });
}
