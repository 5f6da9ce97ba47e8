import fp from 'fastify-plugin';
import { openStore, type Store } from '../store/index.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** The database: SQLite by default, PostgreSQL when DATABASE_URL says so. */
    store: Store;
  }
}

/** Options: the database URL, or a store opened elsewhere (tests share one between app instances). */
export interface StorePluginOptions {
  readonly databaseUrl: string;
  readonly store?: Store;
}

/** Opens the store (applying migrations) before the server listens, and closes it last. */
export default fp<StorePluginOptions>(
  async (fastify, opts) => {
    const log = fastify.log.child({ component: 'store' });
    const store = opts.store ?? (await openStore(opts.databaseUrl, { onPoolError: (err) => log.error({ err }, '数据库连接出错') }));
    log.info({ kind: store.kind }, '数据库已就绪');
    fastify.decorate('store', store);
    if (!opts.store) fastify.addHook('onClose', async () => store.close());
  },
  { name: 'store' },
);
