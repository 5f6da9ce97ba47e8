import { existsSync, readFileSync } from 'node:fs';
import fp from 'fastify-plugin';
import { insideFolder, writeWhole } from '../knowledge/edit.js';
import type { SearchIndex } from '../core/search/index.js';
import { loadInWorker } from '../knowledge/reload.js';
import type { Knowledge } from '../knowledge/load.js';
import { readTicketSettings, type TicketSettings } from '../knowledge/tickets.js';
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
  /** The knowledge folder (KNOWLEDGE_DIR) changes are written into. */
  readonly directory: string;
  get(): SearchIndex;
  /** The knowledge the index was built from (entries, word lists, ticket rules), once loaded. */
  knowledge(): Knowledge | null;
  /**
   * The working-day calendar and the ticket rules (knowledge/calendar/, knowledge/tickets.yaml) for
   * everything that counts working days: ticket deadlines and jobs, reminder rounds. Those of the
   * knowledge as loaded, so they follow a reload; before the first load, the folder's as read at start.
   */
  tickets(): Pick<TicketSettings, 'calendar' | 'rules'>;
  /** Settles when the first load is done or failed. */
  readonly loaded: Promise<void>;
  /**
   * Loads the knowledge folder again without a restart: built in a worker thread, loaded here in
   * steps, and swapped in when ready; the old index answers meanwhile. Loads asked for while one runs
   * are done once, after it. Rejects (and keeps the old index) when the folder cannot be loaded.
   */
  reload(): Promise<LoadReport>;
  /**
   * Writes a file of the knowledge folder (path relative to it), records the change as a revision in
   * the store for the other instances, and reloads. Resolves once this instance answers with it.
   */
  change(change: KnowledgeChange): Promise<LoadReport>;
}

/** A file written from the console. */
export interface KnowledgeChange {
  /** Relative to the knowledge folder, with `/`. */
  readonly path: string;
  readonly content: string;
  /** What changed, in a line (shown in the revision list and the log). */
  readonly summary: string;
  /** The account that made it. */
  readonly by: string | null;
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
    // The calendar and rules as the folder has them at start, read at once (a few small files; what is
    // wrong in them is `kb lint`'s and the load's to report): a reminder round or a deadline in the
    // seconds before the first load counts a holiday as one, and an index built elsewhere (tests,
    // benchmarks), which comes without the rest of the folder, has them too.
    const atStart: Pick<TicketSettings, 'calendar' | 'rules'> = readTicketSettings(opts.config.knowledgeDir, new Date());
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

    /**
     * Revisions in the store are how a change made on one instance reaches the others: each polls for
     * revisions it has not applied, writes them into its own folder (when its text differs: instances
     * sharing a folder find it written already) and reloads. An instance starts from the newest
     * revision, taking its folder as it found it for current.
     */
    let applied: string | null | undefined;
    /** Revisions this instance made: already in its folder and its index. */
    const own = new Set<string>();
    const writeRevision = (path: string, content: string): void => {
      const full = insideFolder(config.knowledgeDir, path);
      if (!full) throw new ChunfengError('BAD_REQUEST', `知识库文件路径不正确：${path}`);
      if (!existsSync(full) || readFileSync(full, 'utf8') !== content) writeWhole(full, content);
    };
    const poll = async (): Promise<void> => {
      if (applied === undefined) {
        applied = await fastify.store.insight.latestRevision();
        return;
      }
      const revisions = await fastify.store.insight.revisionsAfter(applied);
      if (revisions.length === 0) return;
      let foreign = false;
      for (const r of revisions) {
        applied = r.id;
        if (own.delete(r.id)) continue;
        foreign = true;
        writeRevision(r.path, r.content);
        log.info({ path: r.path, summary: r.summary }, '已应用其他实例的知识库修改');
      }
      if (foreign) await reload();
    };
    const change = async (c: KnowledgeChange): Promise<LoadReport> => {
      writeRevision(c.path, c.content);
      const revision = await fastify.store.insight.addRevision({ path: c.path, content: c.content, summary: c.summary, createdBy: c.by });
      own.add(revision.id);
      log.info({ path: c.path, summary: c.summary, by: c.by }, '知识库已修改');
      return reload();
    };
    let timer: NodeJS.Timeout | null = null;
    let polling = false;
    const tick = (): void => {
      if (polling) return;
      polling = true;
      void poll()
        .catch((err: unknown) => log.warn({ err }, '查看知识库修改失败，稍后再试'))
        .finally(() => (polling = false));
    };
    fastify.addHook('onReady', async () => {
      tick();
      timer = setInterval(tick, config.knowledgePollMs);
      timer.unref();
    });

    fastify.addHook('preClose', async () => {
      if (timer) clearInterval(timer);
    });

    fastify.decorate('knowledge', {
      get ready() {
        return index !== null;
      },
      directory: config.knowledgeDir,
      get(): SearchIndex {
        if (!index) throw new ChunfengError('NOT_READY');
        return index;
      },
      knowledge: () => knowledge,
      tickets: () => knowledge?.tickets ?? atStart,
      loaded,
      reload,
      change,
    });
    if (index) return;
    fastify.addHook('onReady', async () => {
      void reload()
        .catch((err: unknown) => log.error({ err }, '知识索引加载失败'))
        .finally(() => markLoaded());
    });
  },
  { name: 'knowledge', dependencies: ['store'] },
);
