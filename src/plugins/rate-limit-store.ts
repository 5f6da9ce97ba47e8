import type { FastifyRateLimitStore, FastifyRateLimitStoreCtor } from '@fastify/rate-limit';
import type { FastifyInstance } from 'fastify';

type Counted = Parameters<FastifyRateLimitStore['incr']>[1];

/**
 * @fastify/rate-limit's counters kept in the store (the budgets table, fixed windows), so every
 * gateway instance on one database counts a client's requests together; the plugin's own store
 * counts per process. The store is read when a request comes, as it is registered after the rate
 * limit. Each route counts on its own.
 */
export function storeCounters(fastify: FastifyInstance): FastifyRateLimitStoreCtor {
  class StoreCounters implements FastifyRateLimitStore {
    constructor(private readonly prefix = 'ratelimit:') {}

    incr(key: string, callback: Counted, timeWindow?: number): void {
      const now = new Date();
      fastify.store.budget.count(`${this.prefix}${key}`, timeWindow ?? 60_000, now).then(
        ({ count, resetsAt }) => callback(null, { current: count, ttl: Math.max(0, resetsAt.getTime() - now.getTime()) }),
        (err: unknown) => callback(err instanceof Error ? err : new Error(String(err))),
      );
    }

    /** The plugin passes the route's merged limit options, the route itself as `routeInfo` (its types say otherwise). */
    child(routeOptions: object): FastifyRateLimitStore {
      const route = (routeOptions as { routeInfo?: { method?: unknown; url?: unknown } }).routeInfo ?? {};
      return new StoreCounters(`ratelimit:${String(route.method)}:${String(route.url)}:`);
    }
  }
  return StoreCounters as unknown as FastifyRateLimitStoreCtor;
}
