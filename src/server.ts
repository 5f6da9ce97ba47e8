import Fastify from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import app from './app.js';
import type { Config } from './config.js';

/** Paths of secrets and personal data that must never reach the log. */
export const REDACT = [
  'req.headers.authorization',
  'req.headers["x-telegram-bot-api-secret-token"]',
  'headers.authorization',
  '*.token',
  '*.password',
] as const;

/** Longest request body accepted (a chat update or a question, not a file). */
const BODY_LIMIT = 256 * 1024;

/** How long in-flight requests get to finish after SIGTERM before the process exits anyway. */
const SHUTDOWN_GRACE_MS = 10_000;

/** Starts the gateway: logger, listen, and a graceful shutdown on SIGINT/SIGTERM. */
export async function serve(config: Config): Promise<void> {
  const fastify = Fastify({
    logger: { level: config.logLevel, redact: { paths: [...REDACT], censor: '[已隐去]' } },
    bodyLimit: BODY_LIMIT,
    trustProxy: true,
  }).withTypeProvider<TypeBoxTypeProvider>();
  await fastify.register(app, { config });

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

  await fastify.listen({ port: config.port, host: config.host });
}
