import Fastify, { type FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import app, { type AppOptions } from './app.js';
import type { Config } from './config.js';
import { loggerOptions } from './logging.js';

/** Longest request body accepted (a chat update or a question, not a file). */
export const BODY_LIMIT = 256 * 1024;

/** How long in-flight requests get to finish after SIGTERM before the process exits anyway. */
const SHUTDOWN_GRACE_MS = 10_000;

/** Where log lines go: standard output (the default), a stream of JSON lines (tests), or nowhere. */
export type LogTarget = 'stdout' | { write(line: string): void } | false;

/**
 * The service as it runs, not yet listening: Fastify with the production logger and body limit,
 * the app registered. Tests build it too (with `inject()`), passing fakes through `options`.
 */
export async function buildServer(config: Config, options: Omit<AppOptions, 'config'> = {}, log: LogTarget = 'stdout'): Promise<FastifyInstance> {
  const fastify = Fastify({
    logger: log === false ? false : { ...loggerOptions(config.logLevel), ...(log === 'stdout' ? {} : { stream: log }) },
    bodyLimit: BODY_LIMIT,
    trustProxy: config.trustProxy,
  }).withTypeProvider<TypeBoxTypeProvider>();
  // Registered without encapsulation (fastify-plugin), as fastify-cli does: the app's decorators
  // (store, knowledge, gateway) are reachable on the instance tests and the server hold.
  await fastify.register(fp(app), { ...options, config });
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
