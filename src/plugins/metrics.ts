import fp from 'fastify-plugin';
import { Metrics } from '../metrics.js';

declare module 'fastify' {
  interface FastifyInstance {
    metrics: Metrics;
  }
}

/** Prometheus metrics for this app instance, served at GET /metrics. */
export default fp(
  async (fastify) => {
    const metrics = new Metrics();
    fastify.decorate('metrics', metrics);
    fastify.get('/metrics', { schema: { summary: 'Prometheus 指标', tags: ['运维'] } }, async (_request, reply) =>
      reply.type(metrics.registry.contentType).send(await metrics.registry.metrics()));
  },
  { name: 'metrics' },
);
