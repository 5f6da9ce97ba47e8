import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createAnalyzer, type Segmenter } from '../../src/core/text/analyze.js';
import { SearchIndex } from '../../src/core/search/index.js';
import type { EvalCase } from '../../src/core/eval/score.js';
import { DICTIONARY_VERSION, jiebaSegmenter } from '../../src/knowledge/jieba.js';
import { loadKnowledge, type Knowledge } from '../../src/knowledge/load.js';

/** The project folder (where package.json is). */
export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
/** The knowledge base that ships with the project. */
export const REAL_KNOWLEDGE = join(ROOT, 'knowledge');
/** The shared folder beside the project: the specification and the public evaluation set. */
export const SHARED = join(ROOT, '..', 'shared');
/** The 45 tax statutes that ship with the package (a copy of the shared corpus's laws/tax). */
export const LAWS_DIR = join(ROOT, 'statutes');

/**
 * A cache folder shared by every test run for nodejieba's trimmed main dictionary: writing it takes
 * about a second, and jieba.ts writes it atomically, so parallel test files can share it.
 */
const JIEBA_CACHE = join(tmpdir(), 'chunfeng-test-jieba');
const TRIMMED_DICT = `jieba-main-${DICTIONARY_VERSION}.utf8`;

/** A new empty folder under the system temp folder; remove it with {@link removeDir}. */
export function tempDir(prefix = 'chunfeng-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

/**
 * A new cache folder (for openIndex, the CLI's DATA_DIR/cache, the search plugin) that already holds
 * the trimmed dictionary, so what is measured is the index, not the one-time dictionary trim.
 */
export function seededCacheDir(cacheDir: string): string {
  jiebaSegmenter(JIEBA_CACHE, []);
  mkdirSync(cacheDir, { recursive: true });
  copyFileSync(join(JIEBA_CACHE, TRIMMED_DICT), join(cacheDir, TRIMMED_DICT));
  return cacheDir;
}

/** nodejieba with `words` kept whole, its trimmed dictionary taken from the shared test cache. */
export function sharedSegmenter(words: Iterable<string>): Segmenter {
  return jiebaSegmenter(JIEBA_CACHE, words);
}

/** Loads a knowledge folder and builds its index in memory (no saved index involved). */
export function buildIndex(knowledgeDir: string, policyDirs: readonly string[] = [], now = new Date()): { index: SearchIndex; knowledge: Knowledge } {
  const knowledge = loadKnowledge(knowledgeDir, policyDirs, now);
  const analyzer = createAnalyzer(sharedSegmenter(knowledge.words), knowledge.lexicon);
  return { index: SearchIndex.build(knowledge.entries, knowledge.statutes, analyzer, knowledge.lexicon), knowledge };
}

let realIndex: SearchIndex | null = null;

/** The index of the real knowledge folder without statutes (the default configuration), built once per test file. */
export function realKnowledgeIndex(): SearchIndex {
  realIndex ??= buildIndex(REAL_KNOWLEDGE).index;
  return realIndex;
}

/** Writes files (path relative to `dir` -> content) and returns `dir`. */
export function writeFiles(dir: string, files: Record<string, string>): string {
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  return dir;
}

/** An answer of the right length for a FAQ entry (80-400 characters), different per `topic`. */
export function answerText(topic: string): string {
  return `关于${topic}：${'纳税人可以通过电子税务局或者到办税服务厅办理相关业务，准备好营业执照和经办人身份证件，'.repeat(2)}有疑问可以拨打12366咨询。`;
}

/** A valid FAQ entry file; `extra` lines go into the front matter. */
export function faqFile(fields: { id: string; title: string; category?: string; questions?: string[]; keywords?: string[]; extra?: string[]; answer?: string }): string {
  return [
    '---',
    `id: ${fields.id}`,
    `title: ${fields.title}`,
    `category: ${fields.category ?? '测试'}`,
    // Five phrasings at least, as kb lint asks: the given ones, then plain variants of the title.
    'questions:',
    ...[...(fields.questions ?? []), ...[1, 2, 3, 4, 5].map((i) => `${fields.title}（问法${i}）`)].slice(0, Math.max(5, fields.questions?.length ?? 0)).map((q) => `  - ${q}`),
    `keywords: [${(fields.keywords ?? []).join(', ')}]`,
    'sources:',
    '  - 国家税务总局公告2024年第1号',
    ...(fields.extra ?? []),
    '---',
    fields.answer ?? answerText(fields.title),
    '',
  ].join('\n');
}

/** Reads a JSON-lines evaluation file. */
export function readCases(path: string): EvalCase[] {
  return readFileSync(path, 'utf8').split(/\r?\n/).filter((l) => l.trim()).map((l) => JSON.parse(l) as EvalCase);
}
