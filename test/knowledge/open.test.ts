import { appendFileSync, cpSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openIndex, type IndexSource } from '../../src/knowledge/open.js';
import { REAL_KNOWLEDGE, removeDir, seededCacheDir, tempDir } from '../helpers/knowledge.js';

const QUESTIONS = ['发票弄丢了怎么处理', '小店关门了个体户怎么注销', '留抵退税', '你好', '今天天气怎么样', '个税年度汇算什么时候截止'];

let dir: string;
let source: IndexSource;

beforeAll(() => {
  dir = tempDir('chunfeng-open-');
  // A copy of the real knowledge that this test may change.
  cpSync(REAL_KNOWLEDGE, join(dir, 'knowledge'), { recursive: true });
  source = { knowledgeDir: join(dir, 'knowledge'), policyDirs: [], cacheDir: seededCacheDir(join(dir, 'cache')) };
});
afterAll(() => removeDir(dir));

const savedIndexes = (): string[] => readdirSync(source.cacheDir).filter((f) => /^index-.*\.json$/.test(f));

describe('openIndex', () => {
  it('builds on first open, loads the saved index on the second, and answers the same', () => {
    const first = openIndex(source);
    expect(first.fromCache).toBe(false);
    expect(savedIndexes()).toHaveLength(1);

    const second = openIndex(source);
    expect(second.fromCache).toBe(true);
    expect(QUESTIONS.map((q) => second.index.ask(q))).toEqual(QUESTIONS.map((q) => first.index.ask(q)));
    expect(second.index.entries.length).toBe(first.index.entries.length);
  });

  it('rebuilds when a knowledge file changes, and the change is answered', () => {
    openIndex(source);
    const file = join(source.knowledgeDir, 'faq', 'hotline-12366.md');
    const q = '喇叭花热线是干什么的';
    const before = openIndex(source);
    expect(before.fromCache).toBe(true);
    expect(before.index.ask(q).id).toBeNull();

    writeFileSync(file, readFileSync(file, 'utf8').replace(/^questions:\n/m, `questions:\n  - ${q}\n`));
    const after = openIndex(source);
    expect(after.fromCache).toBe(false);
    expect(after.index.ask(q)).toMatchObject({ answered: true, id: 'hotline-12366' });
    expect(openIndex(source).fromCache).toBe(true);
    // The stale index is removed, not left to pile up.
    expect(savedIndexes()).toHaveLength(1);
  });

  it('rebuilds when the synonyms change, and the new alias is understood', () => {
    const q = '票飞了怎么办';
    const before = openIndex(source);
    expect(before.fromCache).toBe(true);
    expect(before.index.ask(q).id).not.toBe('invoice-lost');

    appendFileSync(join(source.knowledgeDir, 'synonyms.txt'), '\n发票丢失 = 票飞了\n');
    const after = openIndex(source);
    expect(after.fromCache).toBe(false);
    expect(after.index.ask(q)).toMatchObject({ answered: true, id: 'invoice-lost' });
    expect(openIndex(source).fromCache).toBe(true);
  });

  it('rebuilds when a new entry file appears', () => {
    openIndex(source);
    cpSync(join(source.knowledgeDir, 'faq', 'hotline-12366.md'), join(source.knowledgeDir, 'faq', 'zz-copy.md'));
    writeFileSync(join(source.knowledgeDir, 'faq', 'zz-copy.md'), readFileSync(join(source.knowledgeDir, 'faq', 'zz-copy.md'), 'utf8').replace(/^id: .*$/m, 'id: hotline-copy'));
    const after = openIndex(source);
    expect(after.fromCache).toBe(false);
    expect(after.index.entry('hotline-copy')).toBeDefined();
  });

  it('a saved index that cannot be read only costs a rebuild', () => {
    openIndex(source);
    const [saved] = savedIndexes();
    writeFileSync(join(source.cacheDir, saved as string), '{"faq": {"version"');
    const reopened = openIndex(source);
    expect(reopened.fromCache).toBe(false);
    expect(reopened.index.ask('发票弄丢了怎么处理').id).toBe('invoice-lost');
  });
});
