import { stdSerializers, type LoggerOptions } from 'pino';

/**
 * Personal data that must not reach the log, wherever it appears in a message or a field: ID card
 * numbers (18 characters with a birth date), 统一社会信用代码 (18 characters), mobile numbers.
 * The ID card pattern runs first: an ID number would otherwise also look like a credit code.
 */
const PERSONAL_DATA: readonly [RegExp, string][] = [
  [/(?<![0-9A-Za-z])[1-9]\d{5}(?:18|19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}[\dXx](?![0-9A-Za-z])/g, '[身份证号]'],
  [/(?<![0-9A-Za-z])[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}(?![0-9A-Za-z])/g, '[统一社会信用代码]'],
  [/(?<!\d)(?:\+?86[- ]?)?1[3-9]\d[- ]?\d{4}[- ]?\d{4}(?!\d)/g, '[手机号]'],
];

/** Paths of secrets in log objects: request headers, tokens, passwords. */
export const SECRET_PATHS = [
  'req.headers.authorization',
  'req.headers["x-telegram-bot-api-secret-token"]',
  'headers.authorization',
  '*.token',
  '*.password',
] as const;

/** Masks phone numbers, ID card numbers and 统一社会信用代码 in a text. */
export function redactPersonalData(text: string): string {
  return PERSONAL_DATA.reduce((t, [pattern, mask]) => t.replace(pattern, mask), text);
}

function redactDeep(value: unknown, depth: number): unknown {
  if (typeof value === 'string') return redactPersonalData(value);
  if (depth > 6 || value === null || typeof value !== 'object' || value instanceof Error) return value;
  if (Array.isArray(value)) return value.map((v) => redactDeep(v, depth + 1));
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, redactDeep(v, depth + 1)]));
}

/** pino options for the service: level, secrets removed by path, personal data masked in every string. */
export function loggerOptions(level: string): LoggerOptions {
  return {
    level,
    redact: { paths: [...SECRET_PATHS], censor: '[已隐去]' },
    formatters: { log: (obj) => redactDeep(obj, 0) as Record<string, unknown> },
    // Serializers run after the formatter, so an error's message and stack are masked here.
    serializers: { err: (err: Error) => redactDeep(stdSerializers.err(err), 0) },
    hooks: {
      logMethod(args, method) {
        method.apply(this, args.map((a) => (typeof a === 'string' ? redactPersonalData(a) : a)) as Parameters<typeof method>);
      },
    },
  };
}
