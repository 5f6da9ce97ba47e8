import fp from 'fastify-plugin';
import { Metrics } from '../metrics.js';

declare module 'fastify' {
  interface FastifyInstance {
    metrics: Metrics;
  }
}

/** Prometheus metrics for this app instance (served by routes/metrics.ts). */
export default fp(
  async (fastify) => {
    fastify.decorate('metrics', new Metrics());
  },
  { name: 'metrics' },
);
