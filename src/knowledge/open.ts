import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createAnalyzer } from '../core/text/analyze.js';
import { SearchIndex, type SerializedIndex } from '../core/search/index.js';
import { jiebaSegmenter, DICTIONARY_VERSION } from './jieba.js';
import { loadKnowledge, readStatutes, type Knowledge } from './load.js';
import type { Statute } from '../core/search/types.js';
import { VERSION } from '../version.js';

/** Bump when the shape of the saved index or the way documents are tokenised changes. */
const INDEX_FORMAT = 4;

/** The saved file: the index and the statutes it was built from, so a start need not re-read them. */
interface SavedIndex {
  readonly index: SerializedIndex;
  readonly statutes: Statute[];
}

/** Where the knowledge comes from and where the built index is kept. */
export interface IndexSource {
  readonly knowledgeDir: string;
  readonly policyDirs: readonly string[];
  readonly cacheDir: string;
}

/** A ready index and how it came to be. */
export interface OpenedIndex {
  readonly index: SearchIndex;
  readonly knowledge: Knowledge;
  /** True when the saved index was loaded instead of built. */
  readonly fromCache: boolean;
  readonly millis: number;
}

/**
 * Loads the knowledge and returns its index: the saved one when the fingerprint of every file read,
 * the segmenter's dictionary and this code version match, otherwise a new build, which is then saved
 * (the previous saves are removed). A cache that cannot be read or written only costs a rebuild.
 */
export function openIndex(source: IndexSource, now = new Date()): OpenedIndex {
  const started = performance.now();
  const knowledge = loadKnowledge(source.knowledgeDir, source.policyDirs, now, { statutes: false });
  const segmenter = jiebaSegmenter(source.cacheDir, knowledge.words);
  const analyzer = createAnalyzer(segmenter, knowledge.lexicon);
  const key = `${knowledge.fingerprint}-${VERSION}-${INDEX_FORMAT}-${DICTIONARY_VERSION}`;
  const file = join(source.cacheDir, `index-${createHash('sha256').update(key).digest('hex').slice(0, 24)}.json`);

  let saved: SavedIndex | null = null;
  try {
    saved = JSON.parse(readFileSync(file, 'utf8')) as SavedIndex;
  } catch {
    saved = null;
  }
  if (saved) {
    const index = SearchIndex.load(saved.index, knowledge.entries, saved.statutes, analyzer, knowledge.lexicon);
    return { index, knowledge: { ...knowledge, statutes: saved.statutes }, fromCache: true, millis: performance.now() - started };
  }

  const policy = readStatutes(source.policyDirs);
  const index = SearchIndex.build(knowledge.entries, policy.statutes, analyzer, knowledge.lexicon);
  try {
    mkdirSync(source.cacheDir, { recursive: true });
    for (const old of readdirSync(source.cacheDir)) if (/^index-.*\.json$/.test(old)) rmSync(join(source.cacheDir, old), { force: true });
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify({ index: index.toJSON(), statutes: policy.statutes } satisfies SavedIndex));
    renameSync(tmp, file);
  } catch {
    // A read-only or full disk only means the next start builds again.
  }
  const all = { ...knowledge, statutes: policy.statutes, findings: [...knowledge.findings, ...policy.findings] };
  return { index, knowledge: all, fromCache: false, millis: performance.now() - started };
}
