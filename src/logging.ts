import { stdSerializers, type LoggerOptions } from 'pino';
import { maskPersonalData } from './core/text/mask.js';

/**
 * Telegram bot tokens: `bot<id>:<secret>` anywhere (the Bot API's URLs carry it, and telegraf's
 * errors quote the URL), and a bare token (`<id>:<35 characters>`). The bot id is public and stays,
 * so a log still tells which bot; the secret goes.
 */
const BOT_TOKENS: readonly [RegExp, string][] = [
  [/bot(\d+)(?::|%3A)[A-Za-z0-9_-]+/gi, 'bot$1:[已隐去]'],
  [/(?<![A-Za-z0-9_])(\d{5,}):[A-Za-z0-9_-]{30,}/g, '$1:[已隐去]'],
];

/** Field names whose values are secrets at any depth: tokens, passwords, the webhook secret header, cookies. */
const SECRET_KEY = /(?:token|secret|password|passwd|authorization|cookie)$/i;

/** What a secret field's value, and an object too deep to walk, become. */
const HIDDEN = '[已隐去]';
const TOO_DEEP = '[已省略：层级过深]';
const CIRCULAR = '[已省略：循环引用]';

/** Objects nested deeper than this are replaced, never written unmasked. */
const MAX_DEPTH = 32;

/** Masks Telegram bot tokens in a text (the secret part). */
export function maskTokens(text: string): string {
  return BOT_TOKENS.reduce((t, [pattern, mask]) => t.replace(pattern, mask), text);
}

/**
 * The one masking of a text before it is logged or put into an error message: bot tokens and
 * personal numbers (core/text/mask.ts, which also masks stored message text). Every log line goes through it (loggerOptions), and so do errors that quote a URL
 * with the token (the Telegram adapter's).
 */
export function redact(text: string): string {
  return maskPersonalData(maskTokens(text));
}

/**
 * A copy of `value` fit for a log line: strings masked, secret fields hidden at any depth, errors
 * serialized (message and stack masked), objects walked as JSON.stringify would see them.
 */
export function redactValue(value: unknown, depth = 0, seen: WeakSet<object> = new WeakSet()): unknown {
  if (typeof value === 'string') return redact(value);
  if (value === null || typeof value !== 'object') return value;
  if (depth > MAX_DEPTH) return TOO_DEEP;
  if (seen.has(value)) return CIRCULAR;
  seen.add(value);
  try {
    if (value instanceof Error) return redactValue(stdSerializers.err(value), depth + 1, seen);
    const json = (value as { toJSON?: unknown }).toJSON;
    if (typeof json === 'function') return redactValue(json.call(value) as unknown, depth + 1, seen);
    if (Array.isArray(value)) return value.map((v) => redactValue(v, depth + 1, seen));
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, SECRET_KEY.test(k) && v != null ? HIDDEN : redactValue(v, depth + 1, seen)]));
  } finally {
    seen.delete(value);
  }
}

/** The fields of a Fastify request worth a log line; anything else under `req` is masked like any field. */
function serializeRequest(req: unknown): unknown {
  const r = req as { raw?: unknown; method?: unknown; url?: unknown; ip?: unknown };
  if (r && typeof r === 'object' && r.raw && typeof r.url === 'string') {
    return { method: r.method, url: redact(r.url.split('?')[0] ?? ''), remoteAddress: r.ip };
  }
  return redactValue(req);
}

/** A Fastify reply as its status code; anything else under `res` is masked like any field. */
function serializeReply(res: unknown): unknown {
  const r = res as { raw?: unknown; statusCode?: unknown };
  if (r && typeof r === 'object' && r.raw && typeof r.statusCode === 'number') return { statusCode: r.statusCode };
  return redactValue(res);
}

/** Keys whose serializer does the masking itself: the formatter must not flatten what the serializer reads (a request's getters). */
const SERIALIZED = new Set(['err', 'req', 'res']);

/**
 * pino options for the service: every string in a line masked (tokens, personal data), secret fields
 * hidden at any depth. pino runs the `log` formatter before serializers, so the formatter leaves the
 * serialized keys (err, req, res) to their serializers, which mask what they produce.
 */
export function loggerOptions(level: string): LoggerOptions {
  return {
    level,
    formatters: {
      log: (obj) => Object.fromEntries(Object.entries(obj).map(([k, v]) => [k, SERIALIZED.has(k) ? v : SECRET_KEY.test(k) && v != null ? HIDDEN : redactValue(v)])),
      bindings: (bindings) => redactValue(bindings) as Record<string, unknown>,
    },
    serializers: { err: (err: Error) => redactValue(stdSerializers.err(err)), req: serializeRequest, res: serializeReply },
    hooks: {
      logMethod(args, method) {
        const [first, second] = args as unknown[];
        // log.error(err) takes the error's own message as the line's message, unmasked: give it the masked one.
        const withMessage = first instanceof Error && typeof second !== 'string' ? [first, first.message] : args;
        method.apply(this, withMessage.map((a) => (typeof a === 'string' ? redact(a) : a)) as Parameters<typeof method>);
      },
    },
  };
}
