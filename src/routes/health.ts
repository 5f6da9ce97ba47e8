import type { FastifyPluginAsync } from 'fastify';

/** Liveness and readiness for orchestrators and the Docker HEALTHCHECK. */
const health: FastifyPluginAsync = async (fastify) => {
  const schema = { tags: ['运维'], response: { 200: { type: 'object', properties: { status: { type: 'string' } } } } };
  fastify.get('/healthz', { schema: { ...schema, summary: '进程存活' } }, async () => ({ status: 'ok' }));
  fastify.get('/readyz', { schema: { summary: '存储和索引已就绪时为 200，否则 503', tags: ['运维'] } }, async (request, reply) => {
    if (!fastify.knowledge.ready) return reply.code(503).send({ status: 'starting' });
    try {
      await fastify.store.ping();
    } catch (err) {
      request.log.error({ err }, '数据库无响应');
      return reply.code(503).send({ status: 'database unavailable' });
    }
    return { status: 'ready' };
  });
};

export default health;
