import { stdSerializers, type LoggerOptions } from 'pino';

/**
 * Personal data that must not reach the log, wherever it appears in a message or a field: ID card
 * numbers (18 characters with a birth date, and the 15-digit first generation), 统一社会信用代码
 * (18 characters), mobile numbers. The ID card patterns run first: an ID number would otherwise also
 * look like a credit code. The patterns are matched against the text with full-width characters
 * folded to ASCII (１３８… is a phone number too).
 */
const PERSONAL_DATA: readonly [RegExp, string][] = [
  [/(?<![0-9A-Za-z])[1-9]\d{5}(?:18|19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}[\dXx](?![0-9A-Za-z])/g, '[身份证号]'],
  [/(?<![0-9A-Za-z])[1-9]\d{5}\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}(?![0-9A-Za-z])/g, '[身份证号]'],
  [/(?<![0-9A-Za-z])[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}(?![0-9A-Za-z])/g, '[统一社会信用代码]'],
  [/(?<!\d)(?:\+?86[- ]?)?1[3-9]\d[- ]?\d{4}[- ]?\d{4}(?!\d)/g, '[手机号]'],
];

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

/** Full-width ASCII (U+FF01-FF5E) and the ideographic space as their ASCII forms: one UTF-16 unit each, so indices agree. */
function foldWidth(text: string): string {
  return text.replace(/[\uFF01-\uFF5E\u3000]/g, (c) => (c === '\u3000' ? ' ' : String.fromCharCode(c.charCodeAt(0) - 0xfee0)));
}

/** Replaces what `pattern` finds in the folded text at the same places in the original. */
function replaceFolded(text: string, pattern: RegExp, mask: string): string {
  const folded = foldWidth(text);
  let out = '';
  let last = 0;
  for (const m of folded.matchAll(pattern)) {
    out += text.slice(last, m.index) + mask;
    last = m.index + m[0].length;
  }
  return last === 0 ? text : out + text.slice(last);
}

/** Masks phone numbers, ID card numbers and 统一社会信用代码 in a text, in ASCII or full-width digits. */
export function redactPersonalData(text: string): string {
  return PERSONAL_DATA.reduce((t, [pattern, mask]) => replaceFolded(t, pattern, mask), text);
}

/** Masks Telegram bot tokens in a text (the secret part). */
export function maskTokens(text: string): string {
  return BOT_TOKENS.reduce((t, [pattern, mask]) => t.replace(pattern, mask), text);
}

/**
 * The one masking of a text before it is logged or put into an error message: bot tokens and
 * personal data. Every log line goes through it (loggerOptions), and so do errors that quote a URL
 * with the token (the Telegram adapter's).
 */
export function redact(text: string): string {
  return redactPersonalData(maskTokens(text));
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
