import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { loadConfig } from '../../src/config.js';
import type { SearchIndex } from '../../src/core/search/index.js';
import { buildServer, type LogTarget } from '../../src/server.js';
import { REAL_KNOWLEDGE, realKnowledgeIndex, removeDir, seededCacheDir, tempDir } from './knowledge.js';

/** How to build the app for one test. */
export interface BuildOptions {
  /** Environment variables on top of the test defaults, read through loadConfig as in production. */
  readonly env?: Record<string, string>;
  /**
   * The index to serve: by default the real knowledge, built once per test file; `null` leaves the
   * app to load it itself from KNOWLEDGE_DIR after start, as `chunfeng serve` does.
   */
  readonly index?: SearchIndex | null;
  /** Where log lines go: nowhere by default; a stream of JSON lines to look at what was logged. */
  readonly log?: LogTarget;
  /** The built web pages' folder; the package's dist/web by default. */
  readonly webRoot?: string;
}

/**
 * The real app (every plugin and route of src/app.ts) on a Fastify instance without a listener, for
 * `app.inject()`. Its decorators (`knowledge`, `store`, ...) are visible on the returned instance. Each instance gets its own temporary DATA_DIR and SQLite database, removed on close.
 */
export async function build(options: BuildOptions = {}): Promise<FastifyInstance> {
  const dir = tempDir('chunfeng-app-');
  seededCacheDir(join(dir, 'data', 'cache'));
  const config = loadConfig({
    KNOWLEDGE_DIR: REAL_KNOWLEDGE,
    DATA_DIR: join(dir, 'data'),
    DATABASE_URL: `sqlite:${join(dir, 'data', 'chunfeng.db')}`,
    ADMIN_TOKEN: 'test-admin-token',
    LOG_LEVEL: options.log ? 'info' : 'silent',
    ...options.env,
  });
  const index = options.index === undefined ? realKnowledgeIndex() : (options.index ?? undefined);
  const fastify = await buildServer(config, { index, webRoot: options.webRoot }, options.log ?? false);
  fastify.addHook('onClose', async () => removeDir(dir));
  return fastify;
}
