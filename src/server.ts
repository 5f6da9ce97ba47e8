import Fastify, { LogController, type FastifyInstance, type FastifyReply, type FastifyRequest, type FastifyServerOptions } from 'fastify';
import fp from 'fastify-plugin';
import AjvCompiler from '@fastify/ajv-compiler';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import app, { type AppOptions } from './app.js';
import type { Config } from './config.js';
import { loggerOptions } from './logging.js';

/** Longest request body accepted (a chat update or a question, not a file). */
export const BODY_LIMIT = 256 * 1024;

/**
 * How long a client gets to send a whole request (headers and body). Telegram and a browser send a
 * few kilobytes in well under a second; a client dribbling its body would otherwise hold a
 * connection for minutes (Node's default is five).
 */
export const REQUEST_TIMEOUT_MS = 15_000;

/**
 * How long a connection may sit without any traffic. Longer than the slowest handler: a webhook
 * update waits for its reply to reach the Bot API (TELEGRAM_CALL_TIMEOUT_MS in the adapter).
 */
export const CONNECTION_TIMEOUT_MS = 60_000;

/** How often Node looks for requests past REQUEST_TIMEOUT_MS (its default, 30 s, would double the timeout). */
const TIMEOUT_CHECK_INTERVAL_MS = 1_000;

/** How long in-flight requests get to finish after SIGTERM before the process exits anyway. */
const SHUTDOWN_GRACE_MS = 10_000;

/** What the server's caller may set besides the configuration: the app's options, and shorter timeouts (tests). */
export type ServerOptions = Omit<AppOptions, 'config'> & { readonly timeouts?: { readonly requestMs?: number; readonly connectionMs?: number } };

/** Where log lines go: standard output (the default), a stream of JSON lines (tests), or nowhere. */
export type LogTarget = 'stdout' | { write(line: string): void } | false;

/** Routes probed every few seconds (health checks, Prometheus): their successful requests are logged at debug level only. */
const PROBES = new Set(['/healthz', '/readyz', '/metrics']);

/**
 * Fastify's request log lines replaced by one access line per request: method, route, path without
 * the query (which may carry a question), status, client address (after TRUST_PROXY) and
 * milliseconds. Fastify's own two lines had neither route nor status together. The "route not
 * found" line goes too: the access line says 404.
 */
class AccessLog extends LogController {
  override incomingRequest(): void {}

  override routeNotFound(): void {}

  override requestCompleted(error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply): void {
    const route = request.routeOptions.url ?? null;
    const line = {
      method: request.method,
      route,
      url: request.url.split('?')[0],
      status: reply.statusCode,
      client: request.ip,
      ms: Math.round(reply.elapsedTime * 10) / 10,
    };
    if (error) request.log.error({ ...line, err: error }, '请求出错');
    else if (route !== null && PROBES.has(route) && reply.statusCode < 400) request.log.debug(line, '请求完成');
    else request.log.info(line, '请求完成');
  }
}

/**
 * Request bodies are taken as sent: no coercion (`{"q": 123}` is not a question) and no silent
 * dropping of unknown fields (a route schema with `additionalProperties: false` refuses them with a
 * 400 naming the field). Query strings and path parameters keep Fastify's defaults: they arrive as
 * text, so `?limit=10` must be coerced to the integer its schema asks for.
 */
function strictBodies(): NonNullable<FastifyServerOptions['schemaController']> {
  const pool = AjvCompiler();
  return {
    compilersFactory: {
      buildValidator: (externalSchemas: Parameters<typeof pool>[0], options?: Parameters<typeof pool>[1]) => {
        const loose = pool(externalSchemas, options);
        // The service uses JSON Schema (TypeBox), never JTD: Ajv's own options apply.
        const strict = pool(externalSchemas, { ...options, mode: undefined, customOptions: { ...options?.customOptions, coerceTypes: false, removeAdditional: false } } as Parameters<typeof pool>[1]);
        // Fastify calls the compiler with the route's schema and the part it validates (its types only name the schema).
        type Compile = ReturnType<typeof pool>;
        return ((route: { httpPart?: string }) => (route.httpPart === 'body' ? strict : loose)(route as Parameters<Compile>[0])) as unknown as Compile;
      },
    },
  };
}

function trustHops(hops: number): (address: string, hop: number) => boolean {
  return (_address, hop) => hop < hops;
}

/**
 * The service as it runs, not yet listening: Fastify with the production logger, body limit,
 * timeouts and strict bodies, the app registered. Tests build it too (with `inject()`), passing fakes
 * through `options`.
 */
export async function buildServer(config: Config, options: ServerOptions = {}, log: LogTarget = 'stdout'): Promise<FastifyInstance> {
  const { timeouts, ...appOptions } = options;
  const requestTimeout = timeouts?.requestMs ?? REQUEST_TIMEOUT_MS;
  const fastify = Fastify({
    logger: log === false ? false : { ...loggerOptions(config.logLevel), ...(log === 'stdout' ? {} : { stream: log }) },
    logController: new AccessLog(),
    bodyLimit: BODY_LIMIT,
    // A hop count as proxy-addr's test (what Fastify does with a number, which its types do not take):
    // the socket's peer and the hops-1 addresses nearest to it in X-Forwarded-For are proxies.
    trustProxy: typeof config.trustProxy === 'number' ? trustHops(config.trustProxy) : config.trustProxy,
    requestTimeout,
    connectionTimeout: timeouts?.connectionMs ?? CONNECTION_TIMEOUT_MS,
    // Node enforces the request timeout only when the headers' own timeout (60 s by default) is no
    // longer: the headers get the same time as the whole request.
    http: { connectionsCheckingInterval: TIMEOUT_CHECK_INTERVAL_MS, headersTimeout: requestTimeout },
    schemaController: strictBodies(),
  }).withTypeProvider<TypeBoxTypeProvider>();
  // Registered without encapsulation (fastify-plugin), as fastify-cli does: the app's decorators
  // (store, knowledge, gateway) are reachable on the instance tests and the server hold.
  await fastify.register(fp(app), { ...appOptions, config });
  return fastify;
}

/** Starts the gateway: build, listen, and a graceful shutdown on SIGINT/SIGTERM. */
export async function serve(config: Config): Promise<void> {
  const fastify = await buildServer(config);

  let closing = false;
  const shutdown = (signal: string): void => {
    if (closing) return;
    closing = true;
    fastify.log.info({ signal }, '正在停止服务');
    setTimeout(() => process.exit(1), SHUTDOWN_GRACE_MS).unref();
    fastify.close().then(
      () => process.exit(0),
      (err: unknown) => {
        fastify.log.error({ err }, '停止服务时出错');
        process.exit(1);
      },
    );
  };
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);

  try {
    await fastify.listen({ port: config.port, host: config.host });
  } catch (err) {
    // listen() ran ready() first: channels and the database are already open. Close them, or the
    // process would go on answering chats after reporting that it could not start.
    await fastify.close().catch(() => undefined);
    throw err;
  }
}
