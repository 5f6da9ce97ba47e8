import fp from 'fastify-plugin';
import type { SearchIndex } from '../core/search/index.js';
import { openIndex } from '../knowledge/open.js';
import { ChunfengError } from '../errors.js';
import type { Config } from '../config.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** The knowledge index; {@link SearchHolder.get} throws CHUNFENG_NOT_READY until it is loaded. */
    knowledge: SearchHolder;
  }
}

/** Holds the index once it is ready, so the server can listen (and answer /healthz) before. */
export interface SearchHolder {
  readonly ready: boolean;
  get(): SearchIndex;
  /** Settles when the index is loaded or failed to load. */
  readonly loaded: Promise<void>;
}

/** Options: the configuration, or an index built elsewhere (tests, benchmarks). */
export interface SearchPluginOptions {
  readonly config: Config;
  readonly index?: SearchIndex;
}

/**
 * Loads the knowledge index after the server is up: a saved index loads in well under a second, a
 * rebuild of a large policy corpus takes longer, and /readyz answers 503 meanwhile.
 */
export default fp<SearchPluginOptions>(
  async (fastify, opts) => {
    let index: SearchIndex | null = opts.index ?? null;
    let markLoaded: () => void = () => undefined;
    const loaded = index ? Promise.resolve() : new Promise<void>((resolve) => (markLoaded = resolve));
    fastify.decorate('knowledge', {
      get ready() {
        return index !== null;
      },
      get(): SearchIndex {
        if (!index) throw new ChunfengError('NOT_READY');
        return index;
      },
      loaded,
    });
    if (index) return;
    fastify.addHook('onReady', async () => {
      setImmediate(() => {
        const log = fastify.log.child({ component: 'knowledge' });
        try {
          const { config } = opts;
          const opened = openIndex({ knowledgeDir: config.knowledgeDir, policyDirs: config.policyDirs, cacheDir: config.cacheDir });
          for (const f of opened.knowledge.findings) log.warn({ file: f.file, line: f.line }, f.message);
          index = opened.index;
          log.info({ entries: opened.index.entries.length, passages: opened.index.passageCount, fromCache: opened.fromCache, ms: Math.round(opened.millis) }, '知识索引已就绪');
        } catch (err) {
          log.error({ err }, '知识索引加载失败');
        } finally {
          markLoaded();
        }
      });
    });
  },
  { name: 'knowledge' },
);
