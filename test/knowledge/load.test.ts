import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadKnowledge } from '../../src/knowledge/load.js';
import { buildIndex, faqFile, removeDir, tempDir, writeFiles } from '../helpers/knowledge.js';

const dirs: string[] = [];
afterAll(() => dirs.forEach(removeDir));

/** A knowledge folder in a temp dir with the given files. */
function folder(files: Record<string, string>): string {
  const dir = tempDir('chunfeng-kb-');
  dirs.push(dir);
  return writeFiles(dir, files);
}

const LOST = faqFile({ id: 'invoice-lost', title: '发票丢失了怎么办', category: '发票', questions: ['发票丢了怎么补'], keywords: ['发票丢失'] });
const LOGIN = faqFile({ id: 'etax-login', title: '电子税务局怎么登录', category: '办税渠道', questions: ['电子税务局登不上'], keywords: ['电子税务局'] });

describe('loadKnowledge', () => {
  it('loads a clean folder with no findings', () => {
    const k = loadKnowledge(folder({ 'faq/invoice-lost.md': LOST, 'faq/etax-login.md': LOGIN, 'synonyms.txt': '发票丢失 = 丢票\n' }), []);
    expect(k.findings).toEqual([]);
    expect(k.entries.map((e) => e.id).sort()).toEqual(['etax-login', 'invoice-lost']);
    expect(k.lexicon.synonyms.get('丢票')).toBe('发票丢失');
  });

  it('reads entries from policy/ as policy summaries and from faq/ as FAQ entries', () => {
    const policy = faqFile({ id: 'notice-2024-1', title: '2024年第1号公告要点', answer: '公告要点'.repeat(200) });
    const k = loadKnowledge(folder({ 'faq/invoice-lost.md': LOST, 'policy/notice-2024-1.md': policy }), []);
    expect(Object.fromEntries(k.entries.map((e) => [e.id, e.kind]))).toEqual({ 'invoice-lost': 'faq', 'notice-2024-1': 'policy' });
    expect(k.findings).toEqual([]);
  });

  it('a duplicate id is an error naming both files, and the first file keeps the id', () => {
    const copy = faqFile({ id: 'invoice-lost', title: '发票遗失如何处理', category: '发票' });
    const dir = folder({ 'faq/a-invoice-lost.md': LOST, 'faq/b-invoice-lost-copy.md': copy });
    const k = loadKnowledge(dir, []);
    const dup = k.findings.filter((f) => f.severity === 'error');
    expect(dup).toHaveLength(1);
    expect(dup[0]?.file).toMatch(/b-invoice-lost-copy\.md$/);
    expect(dup[0]?.line).toBe(2);
    expect(dup[0]?.message).toContain('invoice-lost');
    expect(dup[0]?.message).toMatch(/a-invoice-lost\.md/);
    expect(k.entries.map((e) => e.title)).toEqual(['发票丢失了怎么办']);
  });

  it('one broken file does not take the others down', () => {
    const broken = '---\nid: broken-entry\ntitle: 标题: 多了一个冒号\n---\n正文';
    const k = loadKnowledge(folder({ 'faq/etax-login.md': LOGIN, 'faq/broken.md': broken, 'faq/invoice-lost.md': LOST }), []);
    expect(k.entries.map((e) => e.id).sort()).toEqual(['etax-login', 'invoice-lost']);
    expect(k.findings).toEqual([expect.objectContaining({ file: expect.stringMatching(/broken\.md$/), line: 3, severity: 'error' })]);
  });

  it('reports an entry past its valid_until as a lint finding but keeps it loaded (the index decides by date)', () => {
    const expired = faqFile({ id: 'old-relief', title: '2020年疫情期间小规模纳税人减免增值税', category: '优惠', extra: ['valid_until: 2020-12-31'] });
    const k = loadKnowledge(folder({ 'faq/old-relief.md': expired, 'faq/invoice-lost.md': LOST }), [], new Date('2026-01-15T00:00:00Z'));
    expect(k.findings).toEqual([expect.objectContaining({ file: expect.stringMatching(/old-relief\.md$/), message: expect.stringContaining('2020-12-31'), severity: 'warning' })]);
    expect(k.entries.map((e) => e.id)).toContain('old-relief');
  });

  it('an entry valid until today is not reported', () => {
    const today = faqFile({ id: 'ends-today', title: '今天到期的政策', extra: ['valid_until: 2026-01-15'] });
    expect(loadKnowledge(folder({ 'faq/ends-today.md': today }), [], new Date('2026-01-15T12:00:00Z')).findings).toEqual([]);
  });

  it('a synonym that points to two canonical words is an error on the second line', () => {
    const synonyms = '# 同义词\n个人所得税 = 个税\n个体工商户 = 个体户 = 个税\n';
    const k = loadKnowledge(folder({ 'faq/invoice-lost.md': LOST, 'synonyms.txt': synonyms }), []);
    expect(k.findings).toEqual([
      expect.objectContaining({ file: expect.stringMatching(/synonyms\.txt$/), line: 3, severity: 'error', message: expect.stringMatching(/个税.*个人所得税.*个体工商户/u) }),
    ]);
    expect(k.lexicon.synonyms.get('个税')).toBe('个人所得税');
    expect(k.lexicon.synonyms.get('个体户')).toBe('个体工商户');
  });

  it('the same alias under the same canonical word twice, or in another spelling, is no conflict', () => {
    const synonyms = '个人所得税 = 个税\n個人所得稅 = 个税\n';
    expect(loadKnowledge(folder({ 'synonyms.txt': synonyms }), []).findings).toEqual([]);
  });

  it('a synonym line without aliases is an error', () => {
    const k = loadKnowledge(folder({ 'synonyms.txt': '个人所得税 = 个税\n留抵退税\n' }), []);
    expect(k.findings).toEqual([expect.objectContaining({ line: 2, severity: 'error' })]);
  });

  it('a related id that does not exist is a warning', () => {
    const withRelated = faqFile({ id: 'invoice-lost', title: '发票丢失了怎么办', extra: ['related: [invoice-missing]'] });
    const k = loadKnowledge(folder({ 'faq/invoice-lost.md': withRelated }), []);
    expect(k.findings).toEqual([expect.objectContaining({ severity: 'warning', message: expect.stringContaining('invoice-missing') })]);
  });

  it('skips README.md in the folder', () => {
    const k = loadKnowledge(folder({ 'README.md': '# 知识库说明\n', 'faq/README.md': '说明', 'faq/invoice-lost.md': LOST }), []);
    expect(k.findings).toEqual([]);
    expect(k.entries).toHaveLength(1);
  });

  it('a missing knowledge folder stops loading; a missing policy folder is a finding', () => {
    const dir = folder({ 'faq/invoice-lost.md': LOST });
    expect(() => loadKnowledge(join(dir, 'nope'), [])).toThrow(/nope/);
    const k = loadKnowledge(dir, [join(dir, 'laws')]);
    expect(k.findings).toEqual([expect.objectContaining({ file: join(dir, 'laws'), severity: 'error' })]);
  });

  it('the fingerprint changes when a file changes and only then', () => {
    const dir = folder({ 'faq/invoice-lost.md': LOST });
    const before = loadKnowledge(dir, []).fingerprint;
    expect(loadKnowledge(dir, []).fingerprint).toBe(before);
    writeFiles(dir, { 'faq/invoice-lost.md': LOST.replace('发票丢了怎么补', '发票丢了能补吗') });
    expect(loadKnowledge(dir, []).fingerprint).not.toBe(before);
  });
});

describe('an expired entry in the index', () => {
  const expired = faqFile({
    id: 'old-relief', title: '疫情期间小规模纳税人增值税减免', category: '优惠', questions: ['小规模纳税人疫情期间增值税免不免'], keywords: ['小规模纳税人', '疫情减免'],
    extra: ['valid_from: 2020-03-01', 'valid_until: 2020-12-31'],
  });

  it('is answered while in force and not after', () => {
    const { index } = buildIndex(folder({ 'faq/old-relief.md': expired, 'faq/invoice-lost.md': LOST, 'faq/etax-login.md': LOGIN }));
    const q = '疫情期间小规模纳税人增值税减免吗';
    expect(index.ask(q, new Date('2020-06-01T00:00:00Z'))).toMatchObject({ answered: true, id: 'old-relief' });
    const later = index.ask(q, new Date('2021-01-01T00:00:00Z'));
    expect(later.id).toBeNull();
    expect(later.suggestions.map((s) => s.id)).not.toContain('old-relief');
    // Nor before it starts.
    expect(index.ask(q, new Date('2020-02-01T00:00:00Z')).id).toBeNull();
  });
});
