import { describe, expect, it } from 'vitest';
import { placeOrder, readCredit, readIndustry, readName, readPlace, readTags, readTaxpayerId, readTaxpayerType } from '../../../src/core/notices/vocabulary.js';
import { residentId, uscc } from '../../helpers/taxpayers.js';

const value = <T>(r: { ok: true; value: T } | { ok: false; message: string }): T | string => (r.ok ? r.value : `!${r.message}`);

describe('profile vocabulary', () => {
  it('reads taxpayer types as staff write them', () => {
    expect(['一般纳税人', '一般', '小规模', '小规模纳税人', '个体户', '个体工商户', ' 自然人 ', '个人'].map((t) => value(readTaxpayerType(t)))).toEqual([
      '一般纳税人', '一般纳税人', '小规模纳税人', '小规模纳税人', '个体工商户', '个体工商户', '自然人', '自然人',
    ]);
    expect(value(readTaxpayerType('企业'))).toBe('!应为 一般纳税人、小规模纳税人、个体工商户、自然人 之一，现为“企业”');
  });

  it('reads credit grades with 级, full-width and lower case; 未评价 and blank are no grade', () => {
    expect(['A', 'a', 'Ａ', 'B级', 'M', 'D 级', '', '未评价', '无'].map((t) => value(readCredit(t)))).toEqual(['A', 'A', 'A', 'B', 'M', 'D', null, null, null]);
    expect(value(readCredit('E'))).toBe('!应为 A、B、M、C、D 之一（可以不填），现为“E”');
    expect(readCredit('AA').ok).toBe(false);
  });

  it('reads an industry section from its letter, its name, both, a short name, or a division or class code', () => {
    const cases: [string, string | null][] = [
      ['C', 'C'], ['c', 'C'], ['C 制造业', 'C'], ['C制造业', 'C'], ['制造业', 'C'], ['批发和零售业', 'F'], ['批发零售业', 'F'], ['批发零售', 'F'],
      ['F 批发和零售业', 'F'], ['农林牧渔业', 'A'], ['交通运输', 'G'], ['信息传输、软件和信息技术服务业', 'I'], ['13', 'C'], ['3990', 'C'],
      ['C3990', 'C'], ['3990 其他未列明制造业', 'C'], ['5131 建材批发', 'F'], ['70', 'K'], ['教育', 'P'], ['', null], ['Ｃ', 'C'],
    ];
    expect(cases.map(([text]) => value(readIndustry(text)))).toEqual(cases.map(([, v]) => v));
  });

  it('refuses industries it cannot place, and a letter that contradicts its code or name', () => {
    expect(value(readIndustry('互联网'))).toBe('!应为国民经济行业门类 A-T，如“C 制造业”“制造业”或“C”，现为“互联网”');
    expect(readIndustry('Z').ok).toBe(false);
    expect(readIndustry('99').ok).toBe(false);
    expect(readIndustry('IC设计').ok).toBe(false);
    expect(value(readIndustry('F 制造业'))).toBe('!门类字母、代码和名称不一致：“F 制造业”');
    expect(value(readIndustry('C5131'))).toBe('!门类字母、代码和名称不一致：“C5131”');
  });

  it('accepts taxpayer ids with a valid check character, in capitals and without spaces', () => {
    const id = uscc(42);
    expect(value(readTaxpayerId(` ${id.toLowerCase()} `))).toBe(id);
    expect(value(readTaxpayerId(`'${id}`))).toBe(id);
    expect(value(readTaxpayerId(residentId(7)))).toBe(residentId(7));
    expect(value(readTaxpayerId('370102800101003'))).toBe('370102800101003');
  });

  it('names what is wrong with a taxpayer id: empty, a mistyped digit, the length, Excel scientific notation', () => {
    const id = uscc(42);
    const typo = `${id.slice(0, 10)}${id[10] === '1' ? '2' : '1'}${id.slice(11)}`;
    expect(value(readTaxpayerId(typo))).toBe(`!校验位不正确，请核对（${typo}）`);
    expect(value(readTaxpayerId(''))).toBe('!不能为空');
    expect(value(readTaxpayerId('1234567890'))).toBe('!应为 15、17、18 或 20 位，现为 10 位');
    expect(value(readTaxpayerId('9.13701E+17'))).toMatch(/^!被 Excel 显示成了科学计数法（9.13701E\+17），请把这一列设为“文本”格式/);
    expect(value(readTaxpayerId('91370102MA#0000001'))).toMatch(/^!只能由数字和大写字母组成/);
  });

  it('cleans names, places and tags; refuses what is too long', () => {
    expect(value(readName('  济南　甲公司 '))).toBe('济南 甲公司');
    expect(value(readName(''))).toBe('!不能为空');
    expect(value(readPlace(''))).toBeNull();
    expect(value(readPlace('第一分局'))).toBe('第一分局');
    expect(readPlace('局'.repeat(51)).ok).toBe(false);
    expect(value(readTags('出口企业、重点户,重点户；高新技术企业 | 制造业'))).toEqual(['出口企业', '重点户', '高新技术企业', '制造业']);
    expect(value(readTags(['甲', ' 乙 ', '']))).toEqual(['甲', '乙']);
    expect(readTags('长'.repeat(21)).ok).toBe(false);
    expect(readTags(Array.from({ length: 21 }, (_, i) => `t${i}`)).ok).toBe(false);
  });
});

describe('order of places', () => {
  it('puts numbered offices in number order, others in pinyin order', () => {
    expect(['第十一分局', '第二分局', '第十分局', '第一分局', '稽查局', '第三税务所'].sort(placeOrder)).toEqual(['第一分局', '第二分局', '第三税务所', '第十分局', '第十一分局', '稽查局']);
  });
});
