import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseStatute } from '../../src/knowledge/statutes.js';
import { WHOLE_TEXT, parseChineseNumber, toChineseNumber } from '../../src/core/search/statute-ref.js';
import type { Statute } from '../../src/core/search/types.js';
import { LAWS_DIR } from '../helpers/knowledge.js';

const ADMIN_LAW = '经济法_税收征收管理法(2015-04-24).md';
const ADMIN_LAW_PATH = join(LAWS_DIR, ADMIN_LAW);

describe('parseStatute on the real 税收征收管理法', () => {
  const law = (): Statute => {
    const s = parseStatute(ADMIN_LAW, readFileSync(ADMIN_LAW_PATH, 'utf8'));
    if (!s) throw new Error('parseStatute returned null');
    return s;
  };

  it('reads the title, date and category from the file', () => {
    const s = law();
    expect(s.title).toBe('中华人民共和国税收征收管理法');
    expect(s.date).toBe('2015-04-24');
    expect(s.category).toBe('经济法');
    expect(s.file).toBe(ADMIN_LAW);
  });

  it('article 51 exists and is about refunding tax paid in excess (多缴)', () => {
    const a51 = law().articles.find((a) => a.number === 51);
    expect(a51?.text).toMatch(/^第五十一条 纳税人超过应纳税额缴纳的税款/u);
    expect(a51?.text).toContain('多缴');
  });

  it('has a plausible number of articles, numbered 1..N once each', () => {
    const numbers = law().articles.map((a) => a.number);
    expect(numbers.length).toBeGreaterThan(80);
    expect(numbers).toEqual(Array.from({ length: numbers.length }, (_, i) => i + 1));
  });

  it('keeps chapter and section headings and the promulgation history out of the articles', () => {
    for (const a of law().articles) {
      expect(a.text, `article ${a.number}`).not.toMatch(/^#|\n#|第[一二三四五六七八九十]+章|第[一二三四五六七八九十]+节/u);
      expect(a.text, `article ${a.number}`).not.toContain('全国人民代表大会常务委员会');
    }
  });

  it('keeps the later paragraphs of an article with it', () => {
    const a3 = law().articles.find((a) => a.number === 3);
    expect(a3?.text.split('\n')).toHaveLength(2);
    expect(a3?.text).toContain('任何机关、单位和个人不得违反法律');
  });
});

describe('parseStatute on small texts', () => {
  const text = [
    '# 中华人民共和国示例税法',
    '',
    '2020年1月1日 第十三届全国人民代表大会常务委员会第一次会议通过',
    '',
    '<!-- INFO END -->',
    '',
    '## 第一章 总则',
    '',
    '第一条 为了规范示例税的征收，制定本法。',
    '',
    '第二条 纳税人应当依照本法缴纳示例税。',
    '',
    '本法第一条所称纳税人，是指单位和个人。',
    '',
    '## 第二章 附则',
    '',
    '第十条 本法自2021年1月1日起施行。',
  ].join('\n');

  it('splits articles, numbers them from the Chinese numerals and leaves headings out', () => {
    const s = parseStatute('经济法_示例税法(2020-01-01).md', text);
    expect(s?.articles).toEqual([
      { number: 1, text: '第一条 为了规范示例税的征收，制定本法。' },
      { number: 2, text: '第二条 纳税人应当依照本法缴纳示例税。\n本法第一条所称纳税人，是指单位和个人。' },
      { number: 10, text: '第十条 本法自2021年1月1日起施行。' },
    ]);
  });

  it('returns null for a file without a title or without text', () => {
    expect(parseStatute('a.md', text.replace('# 中华人民共和国示例税法', ''))).toBeNull();
    expect(parseStatute('b.md', '# 关于某事的通知\n\n<!-- INFO END -->\n\n')).toBeNull();
  });

  it('keeps a document without numbered articles as one passage, its whole text', () => {
    const s = parseStatute('b.md', '# 关于某事的通知\n\n<!-- INFO END -->\n\n一、各地税务机关要做好某事。\n\n二、本通知自发布之日起施行。');
    expect(s?.articles).toEqual([{ number: WHOLE_TEXT, text: '一、各地税务机关要做好某事。\n二、本通知自发布之日起施行。' }]);
  });

  it('a file name without category or date gives empty category and null date', () => {
    const s = parseStatute('示例税法.md', text);
    expect(s?.category).toBe('');
    expect(s?.date).toBeNull();
  });
});

describe('Chinese numerals', () => {
  it.each([
    ['一', 1], ['十', 10], ['十一', 11], ['二十', 20], ['五十一', 51], ['九十九', 99],
    ['一百', 100], ['一百零二', 102], ['一百一十', 110], ['一百二十三', 123], ['二百', 200],
  ])('%s = %i both ways', (text, n) => {
    expect(parseChineseNumber(text)).toBe(n);
    expect(toChineseNumber(n)).toBe(text);
  });

  it('reads other ways of writing a number', () => {
    expect(parseChineseNumber('51')).toBe(51);
    expect(parseChineseNumber('一十')).toBe(10);
    expect(parseChineseNumber('两百')).toBe(200);
    expect(parseChineseNumber('一百〇二')).toBe(102);
  });

  it('is NaN for what is not a number', () => {
    expect(parseChineseNumber('')).toBeNaN();
    expect(parseChineseNumber('五十一条')).toBeNaN();
    expect(parseChineseNumber('abc')).toBeNaN();
  });

  it('round-trips every article number a statute may have', () => {
    for (let n = 1; n <= 999; n++) expect(parseChineseNumber(toChineseNumber(n)), String(n)).toBe(n);
  });
});
