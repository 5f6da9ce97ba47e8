import fp from 'fastify-plugin';
import type { SearchIndex } from '../core/search/index.js';
import { loadInWorker } from '../knowledge/reload.js';
import type { Knowledge } from '../knowledge/load.js';
import { ChunfengError } from '../errors.js';
import type { Config } from '../config.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** The knowledge index; {@link SearchHolder.get} throws CHUNFENG_NOT_READY until it is loaded. */
    knowledge: SearchHolder;
  }
}

/** What one load of the knowledge gave. */
export interface LoadReport {
  readonly entries: number;
  readonly passages: number;
  readonly fromCache: boolean;
  readonly millis: number;
  /** `kb lint`'s findings of the folder as loaded. */
  readonly findings: number;
}

/** Holds the index once it is ready, so the server can listen (and answer /healthz) before. */
export interface SearchHolder {
  readonly ready: boolean;
  get(): SearchIndex;
  /** The knowledge the index was built from (entries, word lists, ticket rules), once loaded. */
  knowledge(): Knowledge | null;
  /** Settles when the first load is done or failed. */
  readonly loaded: Promise<void>;
  /**
   * Loads the knowledge folder again without a restart: built in a worker thread, loaded here in
   * steps, and swapped in when ready; the old index answers meanwhile. Loads asked for while one runs
   * are done once, after it. Rejects (and keeps the old index) when the folder cannot be loaded.
   */
  reload(): Promise<LoadReport>;
}

/** Options: the configuration, or an index built elsewhere (tests, benchmarks). */
export interface SearchPluginOptions {
  readonly config: Config;
  readonly index?: SearchIndex;
}

/**
 * Loads the knowledge index after the server is up, in a worker thread (/readyz answers 503 until
 * then, /healthz answers throughout), and reloads it on demand the same way.
 */
export default fp<SearchPluginOptions>(
  async (fastify, opts) => {
    let index: SearchIndex | null = opts.index ?? null;
    let knowledge: Knowledge | null = null;
    let markLoaded: () => void = () => undefined;
    const loaded = index ? Promise.resolve() : new Promise<void>((resolve) => (markLoaded = resolve));
    const log = fastify.log.child({ component: 'knowledge' });
    const { config } = opts;

    const load = async (): Promise<LoadReport> => {
      const done = await loadInWorker({ knowledgeDir: config.knowledgeDir, policyDirs: config.policyDirs, cacheDir: config.cacheDir });
      for (const f of done.knowledge.findings) log.warn({ file: f.file, line: f.line }, f.message);
      index = done.index;
      knowledge = done.knowledge;
      const report = { entries: done.index.entries.length, passages: done.index.passageCount, fromCache: done.fromCache, millis: Math.round(done.millis), findings: done.knowledge.findings.length };
      log.info(report, '知识索引已就绪');
      return report;
    };

    let running: Promise<LoadReport> | null = null;
    let queued: Promise<LoadReport> | null = null;
    const reload = (): Promise<LoadReport> => {
      if (!running) {
        running = load().finally(() => (running = null));
        return running;
      }
      queued ??= running.catch(() => undefined).then(() => {
        queued = null;
        return reload();
      });
      return queued;
    };

    fastify.decorate('knowledge', {
      get ready() {
        return index !== null;
      },
      get(): SearchIndex {
        if (!index) throw new ChunfengError('NOT_READY');
        return index;
      },
      knowledge: () => knowledge,
      loaded,
      reload,
    });
    if (index) return;
    fastify.addHook('onReady', async () => {
      void reload()
        .catch((err: unknown) => log.error({ err }, '知识索引加载失败'))
        .finally(() => markLoaded());
    });
  },
  { name: 'knowledge' },
);
