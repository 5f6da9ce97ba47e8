import type { FastifyError, FastifyInstance, FastifyPluginAsync } from 'fastify';
import rateLimit from '@fastify/rate-limit';
import { storeCounters } from './plugins/rate-limit-store.js';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { Config } from './config.js';
import { ChunfengError, type ErrorBody } from './errors.js';
import type { SearchIndex } from './core/search/index.js';
import knowledgePlugin from './plugins/knowledge.js';
import storePlugin from './plugins/store.js';
import metricsPlugin from './plugins/metrics.js';
import channelsPlugin from './plugins/channels.js';
import outboxPlugin from './plugins/outbox.js';
import noticesPlugin, { type NoticesPluginOptions } from './plugins/notices.js';
import authPlugin from './plugins/auth.js';
import type { ChannelAdapter, ChannelLimits } from './channels/channel.js';
import type { DispatcherTiming } from './channels/dispatcher.js';
import type { Channel } from './core/conversation/types.js';
import type { FloodRule } from './channels/gateway.js';
import type { StartRetry } from './plugins/channels.js';
import type { Store } from './store/index.js';
import health from './routes/health.js';
import ask from './routes/ask.js';
import accounts from './routes/accounts.js';
import subscribers from './routes/subscribers.js';
import notices from './routes/notices.js';
import insight from './routes/insight.js';
import report from './routes/report.js';
import people from './routes/people.js';
import web from './routes/web.js';
import metrics from './routes/metrics.js';
import { VERSION } from './version.js';
import tickets from './routes/tickets.js';
import events from './routes/events.js';
import { TicketConflict } from './core/tickets/lifecycle.js';

/**
 * What the app needs from its caller. Tests pass a ready index (no knowledge folder to load), a
 * shared store, fake channel adapters, a tighter flood rule or other sending limits; production passes
 * the configuration.
 */
export interface AppOptions {
  readonly config: Config;
  readonly index?: SearchIndex;
  readonly store?: Store;
  readonly adapters?: ChannelAdapter[];
  readonly flood?: FloodRule;
  /** Sending limits per channel replacing the configured ones (tests, benchmarks). */
  readonly limits?: Partial<Record<Channel, ChannelLimits>>;
  /** The dispatcher's poll, lease, timeout and retry timings (tests shorten them). */
  readonly dispatch?: Partial<DispatcherTiming>;
  /** Where a generated admin token is shown once; standard error by default. */
  readonly announce?: (line: string) => void;
  /** How often the notice job looks for work, and its clock (tests). */
  readonly noticeJob?: Omit<NoticesPluginOptions, 'config'>;
  /** Pauses before a channel that failed to start is tried again (tests shorten them). */
  readonly startRetry?: StartRetry;
  /** The built web pages' folder; dist/web by default (tests point it elsewhere). */
  readonly webRoot?: string;
}

/** One schema violation in plain Chinese: which field, and what it should be. */
function describeValidation(v: { keyword: string; instancePath: string; params: Record<string, unknown> }): string {
  const field = v.instancePath.replace(/^\//, '').replace(/\//g, '.') || '请求体';
  switch (v.keyword) {
    case 'required':
      return `缺少字段 ${String(v.params.missingProperty)}`;
    case 'minLength':
      return `${field} 不能为空${Number(v.params.limit) > 1 ? `，至少 ${String(v.params.limit)} 个字` : ''}`;
    case 'maxLength':
      return `${field} 太长，最多 ${String(v.params.limit)} 个字`;
    case 'type':
      return `${field} 应为${({ string: '文字', number: '数字', integer: '整数', object: '对象', array: '列表', boolean: '布尔值' } as Record<string, string>)[String(v.params.type)] ?? String(v.params.type)}`;
    case 'additionalProperties':
      return `不认识的字段 ${String(v.params.additionalProperty)}`;
    case 'enum':
      return `${field} 应为 ${(v.params.allowedValues as unknown[]).map(String).join('、')} 之一`;
    case 'pattern':
      return `${field} 格式不正确`;
    default:
      return `${field} 不符合要求`;
  }
}

/** Maps anything thrown in a route to a stable code and a message that is safe to show. */
function toChunfengError(err: FastifyError | Error): ChunfengError {
  if (err instanceof ChunfengError) return err;
  if (err instanceof TicketConflict) return new ChunfengError('CONFLICT', err.message);
  const fe = err as FastifyError;
  if (fe.validation) return new ChunfengError('BAD_REQUEST', `请求格式不正确：${fe.validation.map(describeValidation).join('；')}`);
  if (fe.statusCode === 429) return new ChunfengError('RATE_LIMITED');
  if (fe.statusCode === 413 || fe.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return new ChunfengError('TOO_LARGE');
  if (fe.code?.startsWith('FST_ERR_CTP')) return new ChunfengError('BAD_REQUEST', '请求格式不正确：请求体应为 JSON，例如 {"q": "发票丢了怎么办"}');
  if (fe.statusCode && fe.statusCode >= 400 && fe.statusCode < 500) return new ChunfengError('BAD_REQUEST');
  return new ChunfengError('INTERNAL');
}

/**
 * The whole service as a Fastify plugin: the one error handler first, then configuration-dependent
 * plugins, then routes. `server.ts` only adds the logger, listens and shuts down.
 */
const app: FastifyPluginAsync<AppOptions> = async (fastify: FastifyInstance, opts) => {
  // Set before any plugin adds routes: a route takes the error handler its context has when its
  // plugin finishes loading, so routes added earlier (/telegram/webhook) would answer
  // with Fastify's default error body instead of {"error": {"code": "CHUNFENG_..."}}.
  fastify.setErrorHandler((err: FastifyError, request, reply) => {
    const safe = toChunfengError(err);
    if (safe.status >= 500) request.log.error({ err }, 'request failed');
    else request.log.info({ code: safe.code, reason: err.message }, 'request refused');
    const body: ErrorBody = { error: { code: safe.code, message: safe.message } };
    return reply.code(safe.status).send(body);
  });
  fastify.setNotFoundHandler((_request, reply) => {
    const err = new ChunfengError('NOT_FOUND');
    return reply.code(err.status).send({ error: { code: err.code, message: err.message } } satisfies ErrorBody);
  });

  await fastify.register(swagger, {
    openapi: {
      info: { title: '春风 Chunfeng API', description: '税务群聊问答助手网关', version: VERSION },
      components: { securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer', description: '账号令牌：Authorization: Bearer <令牌>' } } },
    },
  });
  await fastify.register(swaggerUi, { routePrefix: '/docs' });
  await fastify.register(rateLimit, {
    global: false,
    store: storeCounters(fastify),
    // With the database unreachable the question is still answered (unlimited) rather than refused with 500.
    skipOnError: true,
    errorResponseBuilder: (_request, context) => Object.assign(new ChunfengError('RATE_LIMITED', `请求过于频繁，请 ${Math.ceil(context.ttl / 1000)} 秒后再试`), { statusCode: 429 }),
  });
  await fastify.register(metricsPlugin);
  await fastify.register(storePlugin, { databaseUrl: opts.config.databaseUrl, store: opts.store });
  await fastify.register(authPlugin, { adminToken: opts.config.adminToken, announce: opts.announce });
  await fastify.register(knowledgePlugin, { config: opts.config, index: opts.index });
  await fastify.register(outboxPlugin, { config: opts.config, limits: opts.limits, timing: opts.dispatch });
  await fastify.register(noticesPlugin, { config: opts.config, ...opts.noticeJob });
  await fastify.register(channelsPlugin, { config: opts.config, adapters: opts.adapters, flood: opts.flood, startRetry: opts.startRetry });

  await fastify.register(health);
  await fastify.register(ask, { perMinute: opts.config.askRatePerMinute });
  await fastify.register(accounts);
  await fastify.register(subscribers, { bindingCodeDays: opts.config.bindingCodeDays });
  await fastify.register(notices);
  await fastify.register(report, { knowledgeDir: opts.config.knowledgeDir });
  await fastify.register(people);
  await fastify.register(tickets);
  await fastify.register(events);
  await fastify.register(insight);
  await fastify.register(web, { root: opts.webRoot });
  await fastify.register(metrics, { token: opts.config.metricsToken });
};

export default app;
