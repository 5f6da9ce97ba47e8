import iconv from 'iconv-lite';
import { describe, expect, it } from 'vitest';
import { CsvFileError, decodeCsv, mapHeader, readProfilesCsv, templateCsv } from '../../../src/core/notices/csv.js';
import { residentId, uscc } from '../../helpers/taxpayers.js';

const utf8 = (text: string): Uint8Array => Buffer.from(text, 'utf8');
const HEADER = '纳税人识别号,纳税人名称,纳税人类型,所属行业,纳税信用等级,主管分局,所属区域,标签';
const ROWS = [
  `${uscc(1)},济南甲制造有限公司,一般纳税人,C 制造业,A,第一分局,历下区,出口企业、重点户`,
  `${uscc(2)},"济南乙商贸有限公司，分公司",小规模,批发零售业,B级,第二分局,市中区,`,
  `${residentId(3)},张三,自然人,,,第一分局,,`,
];
const FILE = [HEADER, ...ROWS].join('\r\n');

describe('CSV files of profiles', () => {
  it('reads the same rows from UTF-8 with and without a BOM, GBK and UTF-16', () => {
    const files = [utf8(FILE), utf8(`\uFEFF${FILE}`), iconv.encode(FILE, 'gbk'), Buffer.concat([Buffer.from([0xff, 0xfe]), iconv.encode(FILE.replace(/,/g, '\t').replace('"济南乙商贸有限公司，分公司"', '济南乙商贸有限公司，分公司'), 'utf-16le')])];
    const readings = files.map(readProfilesCsv);
    expect(readings.map((r) => r.encoding)).toEqual(['UTF-8', 'UTF-8', 'GBK', 'UTF-16']);
    for (const r of readings) {
      expect(r.errors).toEqual([]);
      expect(r.valid.map((v) => [v.row, v.value.update.name, v.value.update.taxpayerType, v.value.update.industry ?? null])).toEqual([
        [2, '济南甲制造有限公司', '一般纳税人', 'C'], [3, '济南乙商贸有限公司，分公司', '小规模纳税人', 'F'], [4, '张三', '自然人', null],
      ]);
    }
    expect(readings[0]?.valid[0]?.value.update.tags).toEqual(['出口企业', '重点户']);
  });

  it('tells GBK from UTF-8 by the bytes alone', () => {
    expect(decodeCsv(iconv.encode('纳税人识别号', 'gbk'))).toEqual({ encoding: 'GBK', text: '纳税人识别号' });
    expect(decodeCsv(utf8('纳税人识别号'))).toEqual({ encoding: 'UTF-8', text: '纳税人识别号' });
  });

  it('reports each bad row by its spreadsheet row number, field, column and a Chinese message, and keeps the good ones', () => {
    const file = [HEADER, ROWS[0], `${uscc(5)},丙公司,一般纳税人,C,E,第一分局,,`, '', ',,,,,,,', `${uscc(6)},丁公司,大企业,互联网,A,,,`, ROWS[0]].join('\n');
    const reading = readProfilesCsv(utf8(file));
    expect(reading.rows).toBe(4);
    expect(reading.valid.map((v) => v.row)).toEqual([2]);
    expect(reading.errors).toEqual([
      { row: 3, field: 'credit', column: '纳税信用等级', message: '应为 A、B、M、C、D 之一（可以不填），现为“E”' },
      { row: 6, field: 'taxpayerType', column: '纳税人类型', message: '应为 一般纳税人、小规模纳税人、个体工商户、自然人 之一，现为“大企业”' },
      { row: 6, field: 'industry', column: '所属行业', message: '应为国民经济行业门类 A-T，如“C 制造业”“制造业”或“C”，现为“互联网”' },
      { row: 7, field: 'taxpayerId', column: '纳税人识别号', message: '与第 2 行重复，同一纳税人只能出现一次' },
    ]);
  });

  it('counts a quoted cell with a line break as one row, as Excel does', () => {
    const reading = readProfilesCsv(utf8(`${HEADER}\n${uscc(1)},"甲公司\n（总部）",一般纳税人,,,,,\n${uscc(2)},乙,一般纳税人,Q,,,,`));
    expect(reading.valid.map((v) => [v.row, v.value.update.name])).toEqual([[2, '甲公司 （总部）'], [3, '乙']]);
  });

  it('names unknown columns, ignores them, and leaves out fields the file has no column for', () => {
    const reading = readProfilesCsv(utf8(`序号,税号,名称,类型,联系电话\n1,${uscc(1)},甲,一般纳税人,0531-1234567`));
    expect(reading.unknownColumns).toEqual(['序号', '联系电话']);
    expect(reading.valid[0]?.value.update).toEqual({ taxpayerId: uscc(1), name: '甲', taxpayerType: '一般纳税人' });
  });

  it('flags a row that spills past the header (a comma in an unquoted name)', () => {
    const reading = readProfilesCsv(utf8(`纳税人识别号,名称,纳税人类型\n${uscc(1)},甲,有限公司,一般纳税人`));
    expect(reading.errors.map((e) => [e.row, e.field])).toEqual([[2, 'taxpayerType'], [2, null]]);
    expect(reading.errors[1]?.message).toBe('这一行比列名多出 1 个有内容的格子，请检查是否错位');
  });

  it('refuses a whole file that cannot be imported, saying why', () => {
    expect(() => readProfilesCsv(utf8(''))).toThrow(CsvFileError);
    expect(() => readProfilesCsv(utf8('名称,纳税人类型\n甲,一般纳税人'))).toThrow('缺少必需的列：纳税人识别号。第一行应为列名，现为：名称、纳税人类型');
    expect(() => readProfilesCsv(utf8(HEADER))).toThrow('文件里只有列名，没有纳税人数据');
    expect(() => readProfilesCsv(utf8(`${HEADER},税号\n`))).toThrow('“纳税人识别号”和“税号”两列都是纳税人识别号，请删去一列');
  });

  it('maps headings liberally: synonyms, required marks, notes in brackets, spaces', () => {
    const map = mapHeader(['*纳税人识别号', '企业 名称', '纳税人类型（必填）', '行业门类', '信用级别(A/B/M/C/D)', '主管税务机关', '所属街道', '纳税人标签']);
    expect(map).toEqual({ ok: true, map: { columns: ['taxpayerId', 'name', 'taxpayerType', 'industry', 'credit', 'office', 'region', 'tags'], unknown: [] } });
  });

  it('offers a template whose headings it reads back', () => {
    const template = templateCsv();
    expect(template.startsWith('\uFEFF纳税人识别号,名称,纳税人类型,行业,信用等级,主管分局,地区,标签')).toBe(true);
    expect(mapHeader(template.slice(1).trim().split(','))).toMatchObject({ ok: true, map: { unknown: [] } });
  });
});
