import { LineCounter, isMap, isScalar, isSeq, parseDocument, type Node, type Pair } from 'yaml';
import type { Audience, Entry, EntryKind, Problem } from '../core/search/types.js';
import { readAudience } from '../core/notices/audience.js';

/** A problem with a severity: errors keep the entry out of the index, warnings only show in `kb lint`. */
export interface Finding extends Problem {
  readonly severity: 'error' | 'warning';
}

/** What parsing one entry file gives: the entry when it is usable, and everything found wrong. */
export interface ParsedEntry {
  readonly entry: Entry | null;
  readonly findings: Finding[];
  /** Line of the `id` key, for reporting duplicates. */
  readonly idLine: number;
}

const ID = /^[a-z0-9][a-z0-9-]*[a-z0-9]$/;
const ENTRY_KINDS: readonly EntryKind[] = ['faq', 'policy', 'referral'];
const DATE = /^\d{4}-\d{2}-\d{2}$/;
const KNOWN_KEYS = new Set([
  'id', 'kind', 'title', 'category', 'questions', 'keywords', 'sources',
  'valid_from', 'valid_until', 'audience', 'related',
]);
/** True for a YYYY-MM-DD day that exists: Date.parse rolls 2025-02-30 over to March instead of refusing it. */
function isCalendarDate(value: string): boolean {
  const time = DATE.test(value) ? Date.parse(value) : Number.NaN;
  return !Number.isNaN(time) && new Date(time).toISOString().slice(0, 10) === value;
}

/** Answer length that reads well in a chat bubble (characters). */
export const ANSWER_LENGTH = { min: 80, max: 400 } as const;
/** Alternative phrasings a FAQ entry should carry: enough to be found, few enough to stay distinct. */
export const QUESTION_COUNT = { min: 5, max: 10 } as const;

/**
 * Parses one knowledge file: front matter between `---` lines, then the answer.
 * Every problem names the line it is on, counted from 1 in the whole file.
 */
export function parseEntryFile(file: string, text: string, kindFromFolder: EntryKind): ParsedEntry {
  const findings: Finding[] = [];
  const error = (line: number, message: string): void => void findings.push({ file, line, message, severity: 'error' });
  const warn = (line: number, message: string): void => void findings.push({ file, line, message, severity: 'warning' });

  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  if (lines[0]?.trim() !== '---') {
    error(1, '文件应以 --- 开头，后接前言（id、title 等字段）');
    return { entry: null, findings, idLine: 1 };
  }
  const end = lines.findIndex((l, i) => i > 0 && l.trim() === '---');
  if (end < 0) {
    error(1, '前言缺少结尾的 --- 行');
    return { entry: null, findings, idLine: 1 };
  }

  const counter = new LineCounter();
  const doc = parseDocument(lines.slice(1, end).join('\n'), { lineCounter: counter, prettyErrors: false });
  const lineOf = (node: Node | null | undefined): number =>
    node?.range ? counter.linePos(node.range[0]).line + 1 : 1;
  for (const e of doc.errors) error(counter.linePos(e.pos[0]).line + 1, `前言不是合法的 YAML：${e.message.split('\n')[0]}`);
  if (doc.errors.length > 0) return { entry: null, findings, idLine: 1 };
  if (!isMap(doc.contents)) {
    error(2, '前言应为“字段: 值”的形式');
    return { entry: null, findings, idLine: 1 };
  }

  const pairs = new Map<string, Pair>();
  for (const pair of doc.contents.items) {
    const key = isScalar(pair.key) ? String(pair.key.value) : '';
    const line = lineOf(pair.key as Node);
    if (pairs.has(key)) error(line, `字段 ${key} 重复`);
    else if (!KNOWN_KEYS.has(key)) warn(line, `未知字段 ${key}`);
    pairs.set(key, pair);
  }
  const keyLine = (key: string): number => (pairs.has(key) ? lineOf(pairs.get(key)?.key as Node) : 2);

  const str = (key: string, required: boolean): string | null => {
    const value = pairs.get(key)?.value;
    if (value === undefined || value === null || (isScalar(value) && (value.value === null || value.value === ''))) {
      if (required) error(keyLine(key), `缺少字段 ${key}`);
      return null;
    }
    if (!isScalar(value) || typeof value.value !== 'string') {
      error(keyLine(key), `字段 ${key} 应为一段文字`);
      return null;
    }
    return value.value.trim();
  };
  const list = (node: unknown, key: string, line: number): string[] => {
    // `questions:` with nothing under it is YAML null: an empty list, not a mistake.
    if (node === undefined || node === null || (isScalar(node) && node.value === null)) return [];
    if (!isSeq(node)) {
      error(line, `字段 ${key} 应为列表`);
      return [];
    }
    const out: string[] = [];
    for (const item of node.items) {
      if (isScalar(item) && (typeof item.value === 'string' || typeof item.value === 'number') && String(item.value).trim()) {
        out.push(String(item.value).trim());
      } else error(lineOf(item as Node), `字段 ${key} 的每一项应为非空文字`);
    }
    return out;
  };
  const strList = (key: string): string[] => list(pairs.get(key)?.value, key, keyLine(key));
  const date = (key: string): string | null => {
    const value = str(key, false);
    if (value !== null && !isCalendarDate(value)) {
      error(keyLine(key), `字段 ${key} 应为 YYYY-MM-DD 格式的日期，现为“${value}”`);
      return null;
    }
    return value;
  };

  const id = str('id', true);
  if (id !== null && !ID.test(id)) error(keyLine('id'), `id“${id}”只能用小写字母、数字和连字符`);
  const kind = str('kind', false) ?? kindFromFolder;
  if (!ENTRY_KINDS.includes(kind as EntryKind)) error(keyLine('kind'), `kind 应为 faq、policy 或 referral，现为“${kind}”`);
  // Referrals are asked for and read like FAQ answers: the same checks of phrasings and length.
  const answered = kind === 'faq' || kind === 'referral';
  const title = str('title', true);
  const category = str('category', true);
  const questions = strList('questions');
  if (answered && (questions.length < QUESTION_COUNT.min || questions.length > QUESTION_COUNT.max)) {
    warn(keyLine('questions'), `有 ${questions.length} 种问法，建议 ${QUESTION_COUNT.min}-${QUESTION_COUNT.max} 种`);
  }
  const keywords = strList('keywords');
  const sources = strList('sources');
  if (pairs.has('sources') && sources.length === 0) error(keyLine('sources'), '至少列出一个依据文件（sources）');
  if (!pairs.has('sources')) error(2, '缺少字段 sources（答案依据的文件、文号和日期）');
  const validFrom = date('valid_from');
  const validUntil = date('valid_until');
  if (validFrom && validUntil && validFrom > validUntil) error(keyLine('valid_until'), 'valid_until 早于 valid_from');
  const related = strList('related');

  const audience: Record<string, string[]> = {};
  const audienceNode = pairs.get('audience')?.value;
  if (audienceNode !== undefined && audienceNode !== null) {
    if (!isMap(audienceNode)) error(keyLine('audience'), 'audience 应为“字段: [取值, ...]”的形式');
    else {
      for (const pair of audienceNode.items) {
        const field = isScalar(pair.key) ? String(pair.key.value) : '';
        audience[field] = list(pair.value, `audience.${field}`, lineOf(pair.key as Node));
      }
      // Tags a profile can never match would keep a pack item from everyone: said here, before a notice is composed.
      const read = readAudience(audience);
      if (!read.ok) for (const message of read.errors) warn(keyLine('audience'), `audience 的推送对象标签有误：${message}`);
    }
  }

  const answer = lines.slice(end + 1).join('\n').trim();
  const answerLine = end + 2;
  if (!answer) error(answerLine, '缺少答案正文（前言之后的文字）');
  else if (answered && (answer.length < ANSWER_LENGTH.min || answer.length > ANSWER_LENGTH.max)) {
    warn(answerLine, `答案长 ${answer.length} 字，建议 ${ANSWER_LENGTH.min}-${ANSWER_LENGTH.max} 字`);
  }

  const ok = !findings.some((f) => f.severity === 'error') && id && title && category && answer;
  const entry: Entry | null = ok
    ? {
        id, kind: kind as Entry['kind'], title, category, questions, keywords, answer, sources,
        validFrom, validUntil, audience: audience as Audience, related, file,
      }
    : null;
  return { entry, findings, idLine: keyLine('id') };
}

/** One line of a word list with where it stands. */
export interface ListLine {
  readonly line: number;
  readonly fields: string[];
}

/** Splits a plain word list (dictionary, synonyms, stop words): `#` starts a comment, blank lines are skipped. */
export function parseListFile(text: string, separator: RegExp): ListLine[] {
  const out: ListLine[] = [];
  text.replace(/^\uFEFF/, '').split(/\r?\n/).forEach((raw, i) => {
    const content = raw.replace(/#.*$/, '').trim();
    if (content) out.push({ line: i + 1, fields: content.split(separator).map((f) => f.trim()).filter(Boolean) });
  });
  return out;
}
