import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { ServerResponse } from 'node:http';
import { Type } from 'typebox';
import { isOverdue, type Ticket } from '../store/index.js';
import { BEARER, REFUSALS } from './schemas.js';

/** A comment line now and then keeps proxies and the browser from closing a quiet stream. */
const HEARTBEAT_MS = 20_000;

/** What the stream says of a changed ticket: enough to update a queue row, the rest from GET /api/tickets/:id. */
function summary(t: Ticket, now: Date) {
  return { id: t.id, number: t.number, state: t.state, assignee: t.assignee, category: t.category, priority: t.priority, overdue: isOverdue(t, now), rating: t.rating, updatedAt: t.updatedAt.toISOString() };
}

/**
 * Server-sent events for the console: `event: ticket` with a ticket's summary whenever it changes
 * (opened, a message, claimed, ...) on any instance sharing the database (PostgreSQL LISTEN/NOTIFY;
 * SQLite is one process). EventSource cannot send headers, so the token may come as `?token=`
 * (the log never records query strings); a header works too.
 */
const events: FastifyPluginAsyncTypebox = async (fastify) => {
  const { store } = fastify;
  const open = new Set<ServerResponse>();
  let stop: (() => void) | null = null;
  // One read per change for every stream of this instance.
  const reading = new Map<string, Promise<void>>();

  const broadcast = (id: string): void => {
    if (reading.has(id)) return;
    const read = store.tickets.find(id)
      .then((t) => {
        if (!t) return;
        const line = `event: ticket\ndata: ${JSON.stringify(summary(t, new Date()))}\n\n`;
        for (const res of open) res.write(line);
      })
      .catch((err: unknown) => fastify.log.warn({ err, ticket: id }, '读取工单变化失败'))
      .finally(() => reading.delete(id));
    reading.set(id, read);
  };

  fastify.addHook('onClose', async () => {
    stop?.();
    for (const res of open) res.end();
    open.clear();
  });

  fastify.get('/api/events', {
    onRequest: async (request) => {
      const token = (request.query as { token?: unknown }).token;
      if (typeof token === 'string' && token && !request.headers.authorization) request.headers.authorization = `Bearer ${token}`;
    },
    preHandler: fastify.authorize(['agent', 'staff']),
    schema: {
      summary: '工单实时变化（server-sent events）：每当工单新建、有新消息或状态变化，推送 event: ticket 及工单摘要',
      description: '浏览器的 EventSource 不能设置请求头，令牌可放在 ?token= 中（日志不记录查询参数）；也可以用 Authorization 头。连接后先收到 event: ready。多个实例共用一个 PostgreSQL 时，任一实例上的变化都会推送。',
      tags: ['工单'],
      security: BEARER,
      querystring: Type.Object({ token: Type.Optional(Type.String({ maxLength: 200, description: '账号令牌' })) }),
      response: { 200: Type.String({ description: 'text/event-stream' }), ...REFUSALS },
    },
  }, async (request, reply) => {
    stop ??= store.tickets.watch(broadcast);
    await store.listening();
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', connection: 'keep-alive', 'x-accel-buffering': 'no' });
    res.write(`retry: 3000\nevent: ready\ndata: {}\n\n`);
    open.add(res);
    const beat = setInterval(() => res.write(': ping\n\n'), HEARTBEAT_MS);
    beat.unref();
    request.raw.on('close', () => {
      clearInterval(beat);
      open.delete(res);
    });
  });
};

export default events;
