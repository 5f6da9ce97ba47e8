import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { threadId } from 'node:worker_threads';
import { createAnalyzer, type Analyzer } from '../core/text/analyze.js';
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

/** The knowledge and its index as text, ready to be loaded: what a build worker hands back. */
export interface PreparedIndex {
  readonly knowledge: Knowledge;
  /** The saved index file's text (a {@link SavedIndex}). */
  readonly saved: string;
  readonly fromCache: boolean;
}

/**
 * A prepared index with its saved text cut into the parts that take longest to parse, each parsed
 * on its own between pauses: what a build worker hands to the server, whose event loop must not be
 * held for long (one parse of the whole took most of a reload's longest step).
 */
export interface HandedIndex {
  readonly knowledge: Knowledge;
  readonly fromCache: boolean;
  /** The JSON texts of the FAQ index, of the passage index, and of the rest (phrasings, pinyin, statutes). */
  readonly parts: { readonly faq: string; readonly passages: string; readonly rest: string };
}

/** Cuts a prepared index into {@link HandedIndex}'s parts (in the worker: this parse does not hold the server). */
export function handOver(prepared: PreparedIndex): HandedIndex {
  const { index, statutes } = JSON.parse(prepared.saved) as SavedIndex;
  return {
    knowledge: prepared.knowledge,
    fromCache: prepared.fromCache,
    parts: { faq: JSON.stringify(index.faq), passages: JSON.stringify(index.passages), rest: JSON.stringify({ phrasings: index.phrasings, pinyin: index.pinyin, statutes }) },
  };
}

/**
 * Loads the knowledge and finds its saved index: the one whose fingerprint (every file read, the
 * segmenter's dictionary and this code version) matches, or else builds the index and saves it
 * (the previous saves are removed). A cache that cannot be read or written only costs a rebuild.
 * The slow part of an open, run in a worker thread by a reload. `check` parses a saved index before
 * handing it over; `rebuild` ignores it.
 */
export function prepareIndex(source: IndexSource, now = new Date(), options: { readonly check?: boolean; readonly rebuild?: boolean } = {}): PreparedIndex {
  const knowledge = loadKnowledge(source.knowledgeDir, source.policyDirs, now, { statutes: false });
  const segmenter = jiebaSegmenter(source.cacheDir, knowledge.words);
  const key = `${knowledge.fingerprint}-${VERSION}-${INDEX_FORMAT}-${DICTIONARY_VERSION}`;
  const file = join(source.cacheDir, `index-${createHash('sha256').update(key).digest('hex').slice(0, 24)}.json`);
  if (!options.rebuild) {
    try {
      const saved = readFileSync(file, 'utf8');
      // A worker checks what it hands over; a command finds out when it loads it (openIndex).
      if (options.check) JSON.parse(saved);
      return { knowledge, saved, fromCache: true };
    } catch {
      // Not saved yet, unreadable or cut short: built below.
    }
  }
  const policy = readStatutes(source.policyDirs);
  const index = SearchIndex.build(knowledge.entries, policy.statutes, createAnalyzer(segmenter, knowledge.lexicon), knowledge.lexicon);
  const saved = JSON.stringify({ index: index.toJSON(), statutes: policy.statutes } satisfies SavedIndex);
  try {
    mkdirSync(source.cacheDir, { recursive: true });
    for (const old of readdirSync(source.cacheDir)) if (/^index-.*\.json$/.test(old)) rmSync(join(source.cacheDir, old), { force: true });
    const tmp = `${file}.${process.pid}.${threadId}.tmp`;
    writeFileSync(tmp, saved);
    renameSync(tmp, file);
  } catch {
    // A read-only or full disk only means the next start builds again.
  }
  return { knowledge: { ...knowledge, findings: [...knowledge.findings, ...policy.findings] }, saved, fromCache: false };
}

/** A prepared index loaded in this thread at once. */
export function loadPrepared(source: IndexSource, prepared: PreparedIndex): { index: SearchIndex; knowledge: Knowledge } {
  const { knowledge, analyzer, saved } = unpack(source, prepared);
  const index = SearchIndex.load(saved.index, knowledge.entries, saved.statutes, analyzer, knowledge.lexicon);
  return { index, knowledge: { ...knowledge, statutes: saved.statutes } };
}

/** A handed-over index loaded in this thread in steps of a few milliseconds each, awaiting `pause` between them. */
export async function loadHandedInSteps(source: IndexSource, handed: HandedIndex, pause: () => Promise<void>): Promise<{ index: SearchIndex; knowledge: Knowledge }> {
  const { knowledge, parts } = handed;
  const faq = JSON.parse(parts.faq) as SerializedIndex['faq'];
  await pause();
  const passages = JSON.parse(parts.passages) as SerializedIndex['passages'];
  await pause();
  const { phrasings, pinyin, statutes } = JSON.parse(parts.rest) as Omit<SerializedIndex, 'faq' | 'passages'> & Pick<SavedIndex, 'statutes'>;
  await pause();
  const analyzer = analyzerFor(source, knowledge);
  await pause();
  const index = await SearchIndex.loadInSteps({ faq, passages, phrasings, pinyin }, knowledge.entries, statutes, analyzer, knowledge.lexicon, pause);
  return { index, knowledge: { ...knowledge, statutes } };
}

function analyzerFor(source: IndexSource, knowledge: Knowledge): Analyzer {
  return createAnalyzer(jiebaSegmenter(source.cacheDir, knowledge.words), knowledge.lexicon);
}

function unpack(source: IndexSource, prepared: PreparedIndex): { knowledge: Knowledge; analyzer: Analyzer; saved: SavedIndex } {
  const { knowledge } = prepared;
  return { knowledge, analyzer: analyzerFor(source, knowledge), saved: JSON.parse(prepared.saved) as SavedIndex };
}

/**
 * Loads the knowledge and returns its index, in this thread: the saved one when it matches, else a
 * new build, which is then saved (see {@link prepareIndex}). For commands; the server loads in a
 * worker thread (reload.ts).
 */
export function openIndex(source: IndexSource, now = new Date()): OpenedIndex {
  const started = performance.now();
  let prepared = prepareIndex(source, now);
  let opened: { index: SearchIndex; knowledge: Knowledge };
  try {
    opened = loadPrepared(source, prepared);
  } catch (err) {
    // A saved index that cannot be read (a disk that filled up mid-write) only costs a rebuild.
    if (!prepared.fromCache) throw err;
    prepared = prepareIndex(source, now, { rebuild: true });
    opened = loadPrepared(source, prepared);
  }
  return { ...opened, fromCache: prepared.fromCache, millis: performance.now() - started };
}
