import { parse } from 'csv-parse/sync';
import iconv from 'iconv-lite';
import { FIELD_LABELS, checkProfileCells, repeatedIds, type Checked, type FieldError, type ProfileField, type ValidProfile } from './profile.js';
import { cleanCell } from './vocabulary.js';

/** The profile fields a CSV column can fill (chats are linked by code or through the JSON API). */
export type CsvField = Exclude<ProfileField, 'chats'>;

/**
 * Column headings staff use for each field, as kept in their spreadsheets and in the exports of the
 * tax systems. Compared after {@link headingKey}: spaces, a required-mark `*` and a note in brackets
 * ("信用等级（A/B/M/C/D）") do not matter.
 */
export const HEADER_SYNONYMS: Readonly<Record<CsvField, readonly string[]>> = {
  taxpayerId: ['纳税人识别号', '识别号', '纳税识别号', '纳税人识别码', '税号', '统一社会信用代码', '社会信用代码', '信用代码', '纳税人识别号统一社会信用代码', '统一社会信用代码纳税人识别号', '身份证号', '身份证号码', '证件号码', 'taxpayerid'],
  name: ['名称', '纳税人名称', '纳税人', '企业名称', '单位名称', '公司名称', '商户名称', '户名', '姓名', '纳税人姓名', 'name'],
  taxpayerType: ['纳税人类型', '类型', '纳税人类别', '纳税人性质', '纳税人资格', '纳税人身份', '增值税纳税人类型', '户类型', 'taxpayertype'],
  industry: ['行业', '所属行业', '行业门类', '行业类别', '行业分类', '国民经济行业', '国民经济行业分类', '行业代码', 'industry'],
  credit: ['信用等级', '纳税信用等级', '信用级别', '纳税信用级别', '纳税缴费信用级别', '纳税缴费信用等级', '信用评级', '信用', 'credit'],
  office: ['主管分局', '税务分局', '分局', '所属分局', '主管税务分局', '管理分局', '主管税务机关', '主管税务机关名称', '税务机关', '主管税务所', '税务所', 'office'],
  region: ['地区', '所属区域', '区域', '所属地区', '所在地区', '区县', '所属区县', '街道', '所属街道', '乡镇街道', '行政区划', 'region'],
  tags: ['标签', '纳税人标签', '分类标签', '标记', 'tags'],
};

/** Columns a file must have: without them no row can be a profile. */
export const REQUIRED_COLUMNS: readonly CsvField[] = ['taxpayerId', 'name', 'taxpayerType'];

/** The template's headings, one per field, in the order of the contract's Profile. */
export const TEMPLATE_HEADINGS: readonly string[] = (Object.keys(HEADER_SYNONYMS) as CsvField[]).map((f) => FIELD_LABELS[f]);

/** Most data rows one file may hold (a district office has some tens of thousands of taxpayers at most). */
export const MAX_ROWS = 50_000;

/** A heading reduced to what tells one column from another. */
export function headingKey(heading: string): string {
  return cleanCell(heading)
    .replace(/[(（][^)）]*[)）]/g, '')
    .replace(/[\s*＊:：/、_-]/g, '')
    .toLowerCase();
}

const FIELD_BY_HEADING = new Map<string, CsvField>(
  (Object.entries(HEADER_SYNONYMS) as [CsvField, readonly string[]][]).flatMap(([field, names]) => names.map((n) => [headingKey(n), field] as const)),
);

/** How a file's first row maps to fields. */
export interface HeaderMap {
  /** The field of each column, or null for a column that is ignored. */
  readonly columns: readonly (CsvField | null)[];
  /** Headings not recognised, as they stand in the file (their columns are ignored). */
  readonly unknown: string[];
}

/** Maps a header row; refuses one that lacks a required column or names a field twice. */
export function mapHeader(headings: readonly string[]): { ok: true; map: HeaderMap } | { ok: false; message: string } {
  const columns: (CsvField | null)[] = [];
  const unknown: string[] = [];
  const seen = new Map<CsvField, string>();
  for (const heading of headings) {
    const field = FIELD_BY_HEADING.get(headingKey(heading)) ?? null;
    if (field === null) {
      if (cleanCell(heading) !== '') unknown.push(cleanCell(heading));
    } else if (seen.has(field)) {
      return { ok: false, message: `“${seen.get(field)}”和“${cleanCell(heading)}”两列都是${FIELD_LABELS[field]}，请删去一列` };
    } else seen.set(field, cleanCell(heading));
    columns.push(field);
  }
  const missing = REQUIRED_COLUMNS.filter((f) => !seen.has(f));
  if (missing.length > 0) {
    const found = headings.map(cleanCell).filter(Boolean).join('、') || '（空）';
    return { ok: false, message: `缺少必需的列：${missing.map((f) => FIELD_LABELS[f]).join('、')}。第一行应为列名，现为：${found}` };
  }
  return { ok: true, map: { columns, unknown } };
}

/** Encodings a file may come in, as the report names them. */
export type CsvEncoding = 'UTF-8' | 'GBK' | 'UTF-16';

/**
 * The text of a file staff saved from a spreadsheet: UTF-8 with or without a byte order mark, UTF-16
 * with one ("Unicode 文本"), or else GBK, which Excel on Chinese Windows writes for "CSV". A file
 * that is not valid UTF-8 is read as GB18030, the superset of GBK, so no byte is ever lost.
 */
export function decodeCsv(bytes: Uint8Array): { encoding: CsvEncoding; text: string } {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (buffer[0] === 0xef && buffer[1] === 0xbb && buffer[2] === 0xbf) return { encoding: 'UTF-8', text: buffer.subarray(3).toString('utf8') };
  if (buffer[0] === 0xff && buffer[1] === 0xfe) return { encoding: 'UTF-16', text: iconv.decode(buffer.subarray(2), 'utf-16le') };
  if (buffer[0] === 0xfe && buffer[1] === 0xff) return { encoding: 'UTF-16', text: iconv.decode(buffer.subarray(2), 'utf-16be') };
  try {
    return { encoding: 'UTF-8', text: new TextDecoder('utf-8', { fatal: true }).decode(buffer) };
  } catch {
    return { encoding: 'GBK', text: iconv.decode(buffer, 'gb18030') };
  }
}

/** One problem of one data row: the row as the spreadsheet numbers it (the header is row 1), the field and its column. */
export interface RowError {
  readonly row: number;
  readonly field: ProfileField | null;
  /** The column's heading as it stands in the file; null for a problem of the whole row. */
  readonly column: string | null;
  readonly message: string;
}

/** What a file gives: valid rows with their numbers, every problem, and what was not understood. */
export interface CsvReading {
  readonly encoding: CsvEncoding;
  /** Data rows that were not blank. */
  readonly rows: number;
  readonly valid: readonly { readonly row: number; readonly value: ValidProfile }[];
  readonly errors: readonly RowError[];
  readonly unknownColumns: string[];
}

/** A problem with the whole file: nothing in it can be imported. */
export class CsvFileError extends Error {}

/**
 * Reads a file of profiles: decoded, parsed by csv-parse (quotes, commas and line breaks inside
 * quoted cells, as Excel writes them; a stray quote inside a cell is kept), the header mapped, every
 * row validated on its own. Tab-separated text (what Excel copies, or saves as "Unicode 文本") is
 * recognised by its first line. A repeated taxpayer id is an error on the later row: which of two
 * rows is right is for staff to say. Throws {@link CsvFileError} when no row can be read at all.
 */
export function readProfilesCsv(bytes: Uint8Array): CsvReading {
  const { encoding, text } = decodeCsv(bytes);
  const firstLine = text.slice(0, text.search(/\r?\n|$/));
  const delimiter = firstLine.includes('\t') && !firstLine.includes(',') ? '\t' : ',';
  let records: { record: string[]; info: { records: number } }[];
  try {
    records = parse(text, { delimiter, relax_column_count: true, relax_quotes: true, info: true, skip_empty_lines: false }) as unknown as typeof records;
  } catch (err) {
    const line = (err as { lines?: number }).lines;
    throw new CsvFileError(`文件不是有效的 CSV${line ? `（第 ${line} 行附近：引号没有成对出现）` : ''}，请在 Excel 中“另存为 CSV”后重试`, { cause: err });
  }
  const [header, ...data] = records;
  if (!header) throw new CsvFileError('文件是空的');
  const mapped = mapHeader(header.record);
  if (!mapped.ok) throw new CsvFileError(mapped.message);
  const { columns, unknown } = mapped.map;
  const blank = (cells: readonly string[]): boolean => cells.every((c) => cleanCell(c) === '');
  const rows = data.filter((r) => !blank(r.record));
  if (rows.length === 0) throw new CsvFileError('文件里只有列名，没有纳税人数据');
  if (rows.length > MAX_ROWS) throw new CsvFileError(`一次最多导入 ${MAX_ROWS} 行，这个文件有 ${rows.length} 行，请分成几个文件`);

  const headings = header.record.map(cleanCell);
  const checked = rows.map(({ record }) => {
    const cells: Partial<Record<CsvField, string>> = {};
    columns.forEach((field, i) => {
      if (field !== null) cells[field] = record[i] ?? '';
    });
    return checkProfileCells(cells);
  });
  const repeats = repeatedIds(checked.map((c) => (c.ok ? c.value.update.taxpayerId : null)));
  const valid: { row: number; value: ValidProfile }[] = [];
  const errors: RowError[] = [];
  rows.forEach(({ record, info }, i) => {
    const row = info.records;
    const result = checked[i] as Checked;
    const rowErrors: FieldError[] = result.ok ? [] : [...result.errors];
    const extra = record.slice(columns.length).filter((c) => cleanCell(c) !== '').length;
    if (extra > 0) rowErrors.push({ field: null, message: `这一行比列名多出 ${extra} 个有内容的格子，请检查是否错位` });
    const earlier = repeats.get(i);
    if (earlier !== undefined) rowErrors.push({ field: 'taxpayerId', message: `与第 ${(rows[earlier] as (typeof rows)[number]).info.records} 行重复，同一纳税人只能出现一次` });
    if (result.ok && rowErrors.length === 0) valid.push({ row, value: result.value });
    for (const e of rowErrors) {
      const column = e.field === null ? null : (headings[columns.indexOf(e.field as CsvField)] ?? null);
      errors.push({ row, field: e.field, column, message: e.message });
    }
  });
  return { encoding, rows: rows.length, valid, errors, unknownColumns: unknown };
}

/** The CSV template staff fill in: the headings only, UTF-8 with a byte order mark so that Excel shows the Chinese. */
export function templateCsv(): string {
  return `\uFEFF${TEMPLATE_HEADINGS.join(',')}\r\n`;
}
