import { describe, expect, it } from 'vitest';
import { ANSWER_LENGTH, parseEntryFile, parseListFile, type ParsedEntry } from '../../src/knowledge/parse.js';

const ANSWER = '个体户注销，先看您属于哪种情况：从未办理过涉税事宜的，可免予到税务机关办理清税证明，直接向市场监管部门申请注销；领用过发票的，要先缴销发票、结清税款再办理清税。可通过电子税务局或办税服务厅办理。';

/** A file made of front-matter lines and an answer, the way staff write them. */
function file(front: string[], answer = ANSWER): string {
  return ['---', ...front, '---', answer].join('\n');
}

const GOOD = ['id: deregister-shop', 'title: 个体户注销要办什么', 'category: 注销', 'questions:', '  - 小店关了怎么注销', '  - 小店不开了税务上办什么', '  - 小店注销流程', '  - 小店关门要清税吗', '  - 小店注销能网上办吗', 'keywords: [个体户注销, 清税证明]', 'sources:', '  - 税总发〔2019〕64号'];

function parse(text: string, kind: 'faq' | 'policy' = 'faq'): ParsedEntry {
  return parseEntryFile('knowledge/faq/deregister-shop.md', text, kind);
}

/** The findings as "line: message" for a readable failure. */
function errors(p: ParsedEntry): { line: number; message: string }[] {
  return p.findings.filter((f) => f.severity === 'error').map(({ line, message }) => ({ line, message }));
}

describe('parseEntryFile: a good entry', () => {
  it('reads every field, with no findings', () => {
    const p = parse(file([...GOOD, 'valid_from: 2024-01-01', 'valid_until: 2027-12-31', 'audience:', '  taxpayerType: [个体工商户]', 'related: [deregister-company]']));
    expect(p.findings).toEqual([]);
    expect(p.entry).toEqual({
      id: 'deregister-shop', kind: 'faq', title: '个体户注销要办什么', category: '注销', questions: ['小店关了怎么注销', '小店不开了税务上办什么', '小店注销流程', '小店关门要清税吗', '小店注销能网上办吗'],
      keywords: ['个体户注销', '清税证明'], answer: ANSWER, sources: ['税总发〔2019〕64号'], validFrom: '2024-01-01', validUntil: '2027-12-31',
      audience: { taxpayerType: ['个体工商户'] }, related: ['deregister-company'], file: 'knowledge/faq/deregister-shop.md',
    });
    expect(p.idLine).toBe(2);
  });

  it('warns about audience tags no profile can match, keeping the entry', () => {
    const p = parse(file([...GOOD, 'audience:', '  taxpayerType: [企业, 大企业]', '  size: [大]']));
    expect(p.entry?.audience).toEqual({ taxpayerType: ['企业', '大企业'], size: ['大'] });
    expect(p.findings.map(({ line, message, severity }) => ({ line, message, severity }))).toEqual([
      { line: 14, severity: 'warning', message: 'audience 的推送对象标签有误：纳税人类型：应为 一般纳税人、小规模纳税人、个体工商户、自然人 之一，现为“大企业”' },
      { line: 14, severity: 'warning', message: 'audience 的推送对象标签有误：不认识的发送对象字段 size（可用：taxpayerType、industry、credit、office、region、tags）' },
    ]);
  });

  it('accepts Windows line ends and a byte-order mark', () => {
    const p = parse(`\uFEFF${file(GOOD).replace(/\n/g, '\r\n')}`);
    expect(p.findings).toEqual([]);
    expect(p.entry?.title).toBe('个体户注销要办什么');
  });

  it('takes the kind from the folder unless the file says otherwise', () => {
    expect(parse(file(GOOD), 'policy').entry?.kind).toBe('policy');
    expect(parse(file([...GOOD, 'kind: policy']), 'faq').entry?.kind).toBe('policy');
  });
});

describe('parseEntryFile: a broken file names the line and what is wrong', () => {
  it('a file without front matter: line 1', () => {
    const p = parse('id: deregister-shop\ntitle: 个体户注销\n\n正文');
    expect(p.entry).toBeNull();
    expect(errors(p)).toEqual([{ line: 1, message: expect.stringContaining('---') }]);
  });

  it('front matter that never ends', () => {
    const p = parse(['---', ...GOOD, '', ANSWER].join('\n'));
    expect(p.entry).toBeNull();
    expect(errors(p)).toEqual([{ line: 1, message: expect.stringContaining('结尾的 ---') }]);
  });

  it('bad YAML: the line of the mistake, counted in the whole file', () => {
    // Line 3 of the file: a second ": " inside a plain value.
    const colon = parse(file(['id: deregister-shop', 'title: 个体户注销: 要办什么', 'category: 注销', 'sources: [x]']));
    expect(colon.entry).toBeNull();
    expect(errors(colon)).toEqual([{ line: 3, message: expect.stringContaining('YAML') }]);

    // Line 6: a tab used for indentation.
    const tab = parse(file(['id: deregister-shop', 'title: 个体户注销', 'category: 注销', 'sources:', '\t- x']));
    expect(errors(tab)).toEqual([{ line: 6, message: expect.stringContaining('YAML') }]);
  });

  it('a missing title', () => {
    const p = parse(file(GOOD.filter((l) => !l.startsWith('title:'))));
    expect(p.entry).toBeNull();
    expect(errors(p).map((e) => e.message)).toEqual([expect.stringContaining('缺少字段 title')]);
  });

  it('an empty title is missing too', () => {
    const p = parse(file(GOOD.map((l) => (l.startsWith('title:') ? 'title:' : l))));
    expect(errors(p)).toEqual([{ line: 3, message: expect.stringContaining('缺少字段 title') }]);
  });

  it.each([
    ['a date in another format', '2025/01/01'],
    ['a month that does not exist', '2025-13-01'],
    ['a day that does not exist', '2025-02-30'],
    ['a 31st in a 30-day month', '2026-04-31'],
    ['a word', '长期有效'],
  ])('a bad date: %s', (_what, value) => {
    const p = parse(file([...GOOD, `valid_until: ${value}`]));
    expect(p.entry).toBeNull();
    expect(errors(p)).toEqual([{ line: GOOD.length + 2, message: expect.stringMatching(new RegExp(`valid_until.*YYYY-MM-DD.*${value}`, 'u')) }]);
  });

  it('a leap day is a date', () => {
    expect(parse(file([...GOOD, 'valid_from: 2024-02-29'])).entry?.validFrom).toBe('2024-02-29');
  });

  it('valid_until before valid_from', () => {
    const p = parse(file([...GOOD, 'valid_from: 2025-01-01', 'valid_until: 2024-12-31']));
    expect(p.entry).toBeNull();
    expect(errors(p)).toEqual([{ line: GOOD.length + 3, message: expect.stringContaining('valid_until 早于 valid_from') }]);
  });

  it('an optional list left empty is an empty list, not an error (too few questions is a warning)', () => {
    const p = parse(file([...GOOD.filter((l) => l !== 'questions:' && !l.startsWith('  - 小店')), 'questions:', 'related:']));
    expect(p.findings).toEqual([expect.objectContaining({ severity: 'warning', message: expect.stringContaining('0 种问法') })]);
    expect(p.entry?.questions).toEqual([]);
    expect(p.entry?.related).toEqual([]);
  });

  it('warns about fewer than 5 or more than 10 alternative questions', () => {
    const only = (n: number): string[] => [...GOOD.filter((l) => !l.startsWith('  - 小店')).flatMap((l) => (l === 'questions:' ? [l, ...Array.from({ length: n }, (_, i) => `  - 小店注销问法${i}`)] : [l]))];
    expect(parse(file(only(4))).findings).toEqual([expect.objectContaining({ severity: 'warning', message: expect.stringContaining('4 种问法') })]);
    expect(parse(file(only(11))).findings).toEqual([expect.objectContaining({ severity: 'warning', message: expect.stringContaining('11 种问法') })]);
    expect(parse(file(only(10))).findings).toEqual([]);
    expect(parse(file(only(2)), 'policy').findings).toEqual([]);
  });

  it('a list expected: one question written as plain text', () => {
    const front = GOOD.filter((l) => l !== 'questions:' && !l.startsWith('  - 小店')).concat('questions: 小店关了怎么注销');
    const p = parse(file(front));
    expect(p.entry).toBeNull();
    expect(errors(p)).toEqual([{ line: front.length + 1, message: expect.stringContaining('questions 应为列表') }]);
  });

  it('an id with capitals or underscores', () => {
    const p = parse(file(GOOD.map((l) => (l.startsWith('id:') ? 'id: Deregister_Shop' : l))));
    expect(p.entry).toBeNull();
    expect(errors(p)).toEqual([{ line: 2, message: expect.stringContaining('Deregister_Shop') }]);
  });

  it('no sources', () => {
    const p = parse(file(GOOD.filter((l) => !l.startsWith('sources') && !l.includes('64号'))));
    expect(p.entry).toBeNull();
    expect(errors(p).map((e) => e.message)).toEqual([expect.stringContaining('sources')]);
  });

  it('no answer after the front matter: the line after the closing ---', () => {
    const p = parse(file(GOOD, ''));
    expect(p.entry).toBeNull();
    expect(errors(p)).toEqual([{ line: GOOD.length + 3, message: expect.stringContaining('答案正文') }]);
  });

  it('reports every problem of a file at once', () => {
    const p = parse(file(['id: deregister-shop', 'category: 注销', 'sources: [x]', 'valid_from: 明年', 'keywords: 注销']));
    expect(errors(p).map((e) => e.line).sort()).toEqual([2, 5, 6]);
  });
});

describe('parseEntryFile: warnings keep the entry', () => {
  it('an unknown key (a typo of a known one) is a warning on its line', () => {
    const p = parse(file([...GOOD, 'keyword: [注销]']));
    expect(p.entry).not.toBeNull();
    expect(p.findings).toEqual([{ file: 'knowledge/faq/deregister-shop.md', line: GOOD.length + 2, message: expect.stringContaining('keyword'), severity: 'warning' }]);
  });

  it.each([
    ['too short', 'x'.repeat(ANSWER_LENGTH.min - 1)],
    ['too long', 'x'.repeat(ANSWER_LENGTH.max + 1)],
  ])('a FAQ answer %s for a chat bubble is a warning with its length', (_what, answer) => {
    const p = parse(file(GOOD, answer));
    expect(p.entry?.answer).toBe(answer);
    expect(p.findings).toEqual([{ file: 'knowledge/faq/deregister-shop.md', line: GOOD.length + 3, message: expect.stringContaining(String(answer.length)), severity: 'warning' }]);
  });

  it('answers at the limits are fine, and a long policy summary is not a FAQ answer', () => {
    expect(parse(file(GOOD, 'x'.repeat(ANSWER_LENGTH.min))).findings).toEqual([]);
    expect(parse(file(GOOD, 'x'.repeat(ANSWER_LENGTH.max))).findings).toEqual([]);
    expect(parse(file(GOOD, 'x'.repeat(2000)), 'policy').findings).toEqual([]);
  });
});

describe('parseListFile', () => {
  it('skips comments and blank lines and keeps the line numbers', () => {
    const text = '# 同义词\n\n个人所得税 = 个税 # 常见简称\n  留抵退税=留底退税  \n#';
    expect(parseListFile(text, /=/)).toEqual([
      { line: 3, fields: ['个人所得税', '个税'] },
      { line: 4, fields: ['留抵退税', '留底退税'] },
    ]);
  });
});
