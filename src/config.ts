import { existsSync, statSync } from 'node:fs';
import { isIP } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readOfficeHours, type OfficeHours } from './core/notices/delivery.js';

/** The service's whole configuration, read once from the environment at start. */
export interface Config {
  readonly port: number;
  readonly host: string;
  readonly databaseUrl: string;
  readonly knowledgeDir: string;
  /** The packaged tax statutes, then the folders POLICY_DIRS names. */
  readonly policyDirs: string[];
  /** Folder for the SQLite file's neighbours: the saved index and the trimmed dictionary. */
  readonly dataDir: string;
  /** Where the saved index and the trimmed dictionary live: `cache` inside the data folder. */
  readonly cacheDir: string;
  readonly adminToken: string | null;
  readonly telegram: {
    readonly token: string | null;
    readonly apiRoot: string | null;
    readonly webhookSecret: string | null;
    /** The public HTTPS address Telegram posts updates to (TELEGRAM_WEBHOOK_URL); set: registered with setWebhook at start. */
    readonly webhookUrl: string | null;
  };
  readonly wechat: { readonly puppet: string | null; readonly token: string | null };
  readonly logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  /**
   * Whom X-Forwarded-For is believed from (TRUST_PROXY), in Fastify's terms: false (nobody, the
   * default: anyone could pick their own address and escape the per-client rate limit), a number of
   * proxy hops in front of the service, or the proxies' addresses and networks.
   */
  readonly trustProxy: false | number | string[];
  /** Bearer token for GET /metrics (METRICS_TOKEN); null: /metrics answers only connections from this host. */
  readonly metricsToken: string | null;
  /** Questions one web client may ask per minute on POST /api/ask. */
  readonly askRatePerMinute: number;
  /** The tax office named to users who ask for a person (OFFICE_NAME, OFFICE_CONTACT); null: only 12366. */
  readonly office: { readonly name: string; readonly contact: string } | null;
  /** More names the bot answers to when @mentioned in WeChat rooms (BOT_NAMES, comma-separated). */
  readonly botNames: string[];
  /** Reminder rounds go out only within these hours (Beijing time) on working days of knowledge/calendar (REMINDER_HOURS). */
  readonly reminderHours: OfficeHours;
  /** Outgoing WeChat messages per minute: per room and for the whole account; and notices per day. */
  readonly wechatBudget: { readonly perRoom: number; readonly perAccount: number; readonly perDay: number };
  /** Outgoing Telegram messages: per second for the bot and per chat, per minute per group. */
  readonly telegramLimits: { readonly perBot: number; readonly perChat: number; readonly perGroup: number };
  /** The outbox: how long a reply may wait before it is expired instead of sent late, and how many sends a message gets. */
  readonly outbox: { readonly maxAgeMs: number; readonly maxAttempts: number };
  /**
   * Retention in days: group chatter the bot did not take up (RETENTION_CHATTER_DAYS), and questions
   * (RETENTION_QUESTION_DAYS; 0 keeps them).
   */
  readonly retention: { readonly chatterDays: number; readonly questionDays: number };
  /** How often each instance looks for knowledge changes made on another (KNOWLEDGE_POLL_SECONDS), in ms. */
  readonly knowledgePollMs: number;
  /** How many days a binding code (绑定 123456) stays valid (BINDING_CODE_DAYS). */
  readonly bindingCodeDays: number;
}

/** A configuration value that cannot be used: start-up stops with this one line. */
export class ConfigError extends Error {
  constructor(readonly variable: string, expected: string, actual: string) {
    super(`配置项 ${variable} 无效：${expected}，当前值为“${actual}”`);
    this.name = 'ConfigError';
  }
}

type Env = Readonly<Record<string, string | undefined>>;

/** A folder setting must name a folder: a file there would pass start-up and fail when the index loads. */
function isDirectory(path: string): boolean {
  return existsSync(path) && statSync(path).isDirectory();
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
/** A bearer token (ADMIN_TOKEN, METRICS_TOKEN) shorter than this is guessable. */
const MIN_TOKEN = 16;

/** The knowledge folder that ships with the package, used when ./knowledge does not exist. */
const PACKAGED_KNOWLEDGE = fileURLToPath(new URL('../knowledge', import.meta.url));
/** The tax statutes that ship with the package, always loaded: POLICY_DIRS adds to them. */
export const PACKAGED_STATUTES = fileURLToPath(new URL('../statutes', import.meta.url));

function integer(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name]?.trim();
  if (!raw) return fallback;
  const n = Number(raw);
  if (!/^\d+$/.test(raw) || n < min || n > max) throw new ConfigError(name, `应为 ${min}-${max} 之间的整数`, raw);
  return n;
}

/** Names proxy-addr (Fastify's trustProxy) accepts for whole address ranges. */
const PROXY_RANGES = new Set(['loopback', 'linklocal', 'uniquelocal']);

/** An IP address, an address with a prefix length (CIDR), or one of {@link PROXY_RANGES}. */
function isProxyAddress(entry: string): boolean {
  if (PROXY_RANGES.has(entry)) return true;
  const [address = '', prefix, ...rest] = entry.split('/');
  const family = isIP(address);
  if (family === 0 || rest.length > 0) return false;
  if (prefix === undefined) return true;
  return /^\d{1,3}$/.test(prefix) && Number(prefix) <= (family === 4 ? 32 : 128);
}

/**
 * TRUST_PROXY: `false` (the default), a number of proxy hops, or proxy addresses. `true` means one
 * hop: Fastify's own `true` trusts every address in X-Forwarded-For, so a client behind a proxy that
 * appends to the header could choose its own address by sending one.
 */
function trustProxy(env: Env): Config['trustProxy'] {
  const raw = optional(env, 'TRUST_PROXY');
  if (raw === null || raw === 'false' || raw === '0') return false;
  if (raw === 'true') return 1;
  if (/^\d+$/.test(raw)) return integer(env, 'TRUST_PROXY', 0, 0, 10);
  const list = raw.split(',').map((p) => p.trim()).filter(Boolean);
  const bad = list.find((p) => !isProxyAddress(p));
  if (bad !== undefined || list.length === 0) {
    throw new ConfigError('TRUST_PROXY', '应为 false、代理层数（如 1）或逗号分隔的代理地址/网段（如 10.0.0.1,172.16.0.0/12）', bad ?? raw);
  }
  return list;
}

/**
 * TELEGRAM_WEBHOOK_URL: Telegram only posts to HTTPS, and without TELEGRAM_WEBHOOK_SECRET anyone
 * could post updates. An address without a path gets the webhook's own path.
 */
function webhookUrl(env: Env, secret: string | null): string | null {
  const raw = url(env, 'TELEGRAM_WEBHOOK_URL', ['https:']);
  if (raw === null) return null;
  if (!secret) throw new ConfigError('TELEGRAM_WEBHOOK_SECRET', '设置 TELEGRAM_WEBHOOK_URL 时必须同时设置 Webhook 密钥', '');
  const parsed = new URL(raw);
  if (parsed.pathname === '/') parsed.pathname = '/telegram/webhook';
  return parsed.toString();
}

function optional(env: Env, name: string): string | null {
  const raw = env[name]?.trim();
  return raw ? raw : null;
}

function url(env: Env, name: string, protocols: string[]): string | null {
  const raw = optional(env, name);
  if (raw === null) return null;
  let parsed: URL;
  try {
    parsed = new URL(raw);
  } catch {
    throw new ConfigError(name, `应为以 ${protocols.join(' 或 ')} 开头的网址`, raw);
  }
  if (!protocols.includes(parsed.protocol)) throw new ConfigError(name, `应为以 ${protocols.join(' 或 ')} 开头的网址`, raw);
  return raw;
}

/**
 * Reads and checks the configuration (names as in docs/contracts.md). Throws {@link ConfigError}
 * naming the first bad variable and what it expects.
 */
export function loadConfig(env: Env = process.env): Config {
  const databaseUrl = env.DATABASE_URL?.trim() || 'sqlite:./data/chunfeng.db';
  if (!/^sqlite:.+/.test(databaseUrl) && !/^postgres(ql)?:\/\/.+/.test(databaseUrl)) {
    throw new ConfigError('DATABASE_URL', '应为 sqlite:文件路径 或 postgres://...', databaseUrl.replace(/\/\/[^@/]*@/, '//***@'));
  }
  const logLevel = (env.LOG_LEVEL?.trim() || 'info') as Config['logLevel'];
  if (!LOG_LEVELS.includes(logLevel)) throw new ConfigError('LOG_LEVEL', `应为 ${LOG_LEVELS.join('/')} 之一`, logLevel);
  const explicitKnowledge = optional(env, 'KNOWLEDGE_DIR');
  const knowledgeDir = explicitKnowledge ?? (existsSync('./knowledge') ? './knowledge' : PACKAGED_KNOWLEDGE);
  if (explicitKnowledge && !isDirectory(explicitKnowledge)) throw new ConfigError('KNOWLEDGE_DIR', '应为存在的目录', explicitKnowledge);
  const extraPolicyDirs = (env.POLICY_DIRS ?? '').split(',').map((d) => d.trim()).filter(Boolean);
  const missing = extraPolicyDirs.find((d) => !isDirectory(d));
  if (missing) throw new ConfigError('POLICY_DIRS', '应为逗号分隔的已存在目录', missing);
  const policyDirs = [...(isDirectory(PACKAGED_STATUTES) ? [PACKAGED_STATUTES] : []), ...extraPolicyDirs];
  const webhookSecret = optional(env, 'TELEGRAM_WEBHOOK_SECRET');
  if (webhookSecret && !/^[A-Za-z0-9_-]{1,256}$/.test(webhookSecret)) {
    throw new ConfigError('TELEGRAM_WEBHOOK_SECRET', '应为 1-256 个字母、数字、_ 或 -（Telegram 的要求）', '***');
  }

  const adminToken = optional(env, 'ADMIN_TOKEN');
  if (adminToken !== null && adminToken.length < MIN_TOKEN) throw new ConfigError('ADMIN_TOKEN', `应至少 ${MIN_TOKEN} 个字符（不设置则首次启动时生成）`, '***');
  const metricsToken = optional(env, 'METRICS_TOKEN');
  if (metricsToken !== null && metricsToken.length < MIN_TOKEN) throw new ConfigError('METRICS_TOKEN', `应至少 ${MIN_TOKEN} 个字符`, '***');
  const dataDir = env.DATA_DIR?.trim() || './data';
  const officeName = optional(env, 'OFFICE_NAME');
  const hoursText = optional(env, 'REMINDER_HOURS') ?? '9:00-17:00';
  const reminderHours = readOfficeHours(hoursText);
  if (!reminderHours) throw new ConfigError('REMINDER_HOURS', '应为一天内的时段，例如 9:00-17:00', hoursText);
  if (!officeName && optional(env, 'OFFICE_CONTACT')) throw new ConfigError('OFFICE_NAME', '设置 OFFICE_CONTACT 时也要设置办税服务厅名称', '');

  return {
    port: integer(env, 'PORT', 3000, 0, 65535),
    host: env.HOST?.trim() || '127.0.0.1',
    databaseUrl,
    knowledgeDir,
    policyDirs,
    dataDir,
    cacheDir: join(dataDir, 'cache'),
    adminToken,
    trustProxy: trustProxy(env),
    metricsToken,
    telegram: {
      token: optional(env, 'TELEGRAM_BOT_TOKEN'),
      apiRoot: url(env, 'TELEGRAM_API_ROOT', ['http:', 'https:']),
      webhookSecret,
      webhookUrl: webhookUrl(env, webhookSecret),
    },
    wechat: { puppet: optional(env, 'WECHAT_PUPPET'), token: optional(env, 'WECHAT_PUPPET_TOKEN') },
    logLevel,
    askRatePerMinute: integer(env, 'ASK_RATE_LIMIT', 30, 1, 100_000),
    office: officeName ? { name: officeName, contact: optional(env, 'OFFICE_CONTACT') ?? '' } : null,
    botNames: (env.BOT_NAMES ?? '').split(',').map((n) => n.trim()).filter(Boolean),
    reminderHours,
    wechatBudget: { perRoom: integer(env, 'WECHAT_ROOM_LIMIT', 10, 1, 1000), perAccount: integer(env, 'WECHAT_ACCOUNT_LIMIT', 60, 1, 10_000), perDay: integer(env, 'WECHAT_DAY_LIMIT', 200, 1, 100_000) },
    telegramLimits: {
      perBot: integer(env, 'TELEGRAM_BOT_LIMIT', 30, 1, 1000),
      perChat: integer(env, 'TELEGRAM_CHAT_LIMIT', 1, 1, 100),
      perGroup: integer(env, 'TELEGRAM_GROUP_LIMIT', 20, 1, 1000),
    },
    outbox: { maxAgeMs: integer(env, 'OUTBOX_MAX_AGE', 600, 10, 7 * 24 * 3600) * 1000, maxAttempts: integer(env, 'OUTBOX_MAX_ATTEMPTS', 8, 1, 100) },
    bindingCodeDays: integer(env, 'BINDING_CODE_DAYS', 7, 1, 90),
    retention: { chatterDays: integer(env, 'RETENTION_CHATTER_DAYS', 30, 1, 3650), questionDays: integer(env, 'RETENTION_QUESTION_DAYS', 0, 0, 3650) },
    knowledgePollMs: integer(env, 'KNOWLEDGE_POLL_SECONDS', 10, 1, 3600) * 1000,
  };
}

/** Reads `.env` in the working folder into process.env when it exists; variables already set win. */
export function loadDotEnv(path = '.env'): void {
  if (existsSync(path)) process.loadEnvFile(path);
}
