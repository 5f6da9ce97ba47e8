import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { SearchIndex } from '../core/search/index.js';
import type { Knowledge } from './load.js';
import { loadHandedInSteps, type HandedIndex, type IndexSource } from './open.js';

/** A knowledge index loaded without holding the event loop. */
export interface Loaded {
  readonly index: SearchIndex;
  readonly knowledge: Knowledge;
  readonly fromCache: boolean;
  readonly millis: number;
}

/**
 * The worker's script. Run from the sources (the tests), this module has no compiled sibling: the
 * built one in dist/ is used (tests build the project first, as the CLI tests do).
 */
function workerScript(): URL {
  const sibling = new URL('./build-worker.js', import.meta.url);
  if (existsSync(fileURLToPath(sibling))) return sibling;
  return new URL('../../dist/knowledge/build-worker.js', import.meta.url);
}

/** Lets the requests waiting on the event loop run (a reload's steps are a few tens of ms each). */
const pause = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * Loads the knowledge in a worker thread: the folder is read and the index built (or found saved)
 * there, and this thread only loads the result, in steps that yield to other work, so /healthz and
 * every other request keep being answered while a whole corpus is rebuilt.
 */
export async function loadInWorker(source: IndexSource, now = new Date()): Promise<Loaded> {
  const started = performance.now();
  const handed = await new Promise<HandedIndex>((resolve, reject) => {
    const worker = new Worker(workerScript(), { workerData: { source, now: now.toISOString() } });
    worker.once('message', (m: { ok: true; handed: HandedIndex } | { ok: false; message: string }) => {
      void worker.terminate();
      if (m.ok) resolve(m.handed);
      else reject(new Error(`知识库加载失败：${m.message}`));
    });
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`知识库加载线程意外退出（${code}）`)));
  });
  const { index, knowledge } = await loadHandedInSteps(source, handed, pause);
  return { index, knowledge, fromCache: handed.fromCache, millis: performance.now() - started };
}
