import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import type { Message, Update } from 'telegraf/types';
import { afterAll, afterEach, beforeAll, beforeEach, describe, it } from 'vitest';
import type { AppOptions } from '../../src/app.js';
import type { ChannelAdapter, InboundHandler } from '../../src/channels/channel.js';
import type { FloodRule } from '../../src/channels/gateway.js';
import { loadConfig } from '../../src/config.js';
import type { Channel, InboundMessage, OutboundMessage } from '../../src/core/conversation/types.js';
import type { SearchIndex } from '../../src/core/search/index.js';
import { openIndex } from '../../src/knowledge/open.js';
import { buildServer } from '../../src/server.js';
import type { Store } from '../../src/store/index.js';
import { TEST_PG_URL, freshPostgresSchema } from '../helpers/databases.js';
import { DEFAULT_BOT, FakeTelegramApi, type FakeBot } from '../fakes/telegram-api.js';

/** The knowledge folder that ships with the project. */
export const KNOWLEDGE_DIR = fileURLToPath(new URL('../../knowledge', import.meta.url));

const tempDirs: string[] = [];

/** A new folder under the system temp folder, removed by {@link removeTempDirs}. */
export function tempDir(prefix = 'chunfeng-channels-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  tempDirs.push(dir);
  return dir;
}

/** Removes every folder made with {@link tempDir} (call in afterAll). */
export function removeTempDirs(): void {
  for (const dir of tempDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
}

let index: SearchIndex | null = null;

/**
 * The index of the real knowledge folder, opened once per test file (vitest runs each file in its
 * own process) through openIndex with a throwaway cache folder, as the knowledge plugin would.
 */
export function knowledgeIndex(): SearchIndex {
  if (!index) {
    const cacheDir = join(tempDir('chunfeng-index-'), 'cache');
    index = openIndex({ knowledgeDir: KNOWLEDGE_DIR, policyDirs: [], cacheDir }).index;
  }
  return index;
}

// ---------------------------------------------------------------------------------------------
// Databases

/** A fresh, empty database and how to throw it away. */
export interface TestDatabase {
  readonly url: string;
  cleanup(): Promise<void>;
}

/** A database the store-dependent suites run on. */
export interface DatabaseTarget {
  /** The suite's name: says why when the target is skipped. */
  readonly label: string;
  readonly available: boolean;
  create(): Promise<TestDatabase>;
}

const PG_URL = TEST_PG_URL;

/** A temporary SQLite file. */
export async function sqliteDatabase(): Promise<TestDatabase> {
  const dir = tempDir('chunfeng-db-');
  return { url: `sqlite:${join(dir, 'chunfeng.db')}`, cleanup: async () => rmSync(dir, { recursive: true, force: true }) };
}

/** A new schema with a random name on TEST_DATABASE_URL, first on search_path through the connection options. */
export async function postgresDatabase(base = PG_URL): Promise<TestDatabase> {
  if (!base) throw new Error('TEST_DATABASE_URL is not set');
  return freshPostgresSchema(base, 'chunfeng_channels');
}

export const DATABASES: readonly DatabaseTarget[] = [
  { label: 'SQLite', available: true, create: sqliteDatabase },
  {
    label: PG_URL ? 'PostgreSQL' : 'PostgreSQL (skipped: TEST_DATABASE_URL not set)',
    available: PG_URL !== null,
    create: () => postgresDatabase(),
  },
];

/** `describe.each` over {@link DATABASES}; an unavailable database shows up as one skipped test named after the reason. */
export function describeEachDatabase(title: string, body: (db: DatabaseTarget) => void): void {
  describe.each(DATABASES)(`${title} on $label`, (db) => {
    if (db.available) body(db);
    else it.skip(db.label, () => undefined);
  });
}

// ---------------------------------------------------------------------------------------------
// The app

/** A log line the app wrote (pino JSON). */
export interface LogLine {
  readonly level: number;
  readonly msg?: string;
  readonly [key: string]: unknown;
}

export interface TestAppOptions {
  readonly databaseUrl: string;
  /** The fake Bot API: Telegram is on, pointed at it. */
  readonly telegram?: { readonly api: FakeTelegramApi; readonly webhookSecret?: string | null };
  /** More environment for loadConfig. */
  readonly env?: Record<string, string>;
  readonly adapters?: ChannelAdapter[];
  readonly flood?: FloodRule;
  /** Sending limits; by default {@link OPEN_LIMITS}, null for the configured ones. */
  readonly limits?: AppOptions['limits'] | null;
  /** The dispatcher's timings; by default {@link FAST_DISPATCH}. */
  readonly dispatch?: AppOptions['dispatch'];
  readonly store?: Store;
  readonly startRetry?: AppOptions['startRetry'];
  /** The notice job's period and clock. */
  readonly noticeJob?: AppOptions['noticeJob'];
}

/** Limits no test reaches unless it means to: sends are not paced, so tests need not wait for a second per chat. */
export const OPEN_LIMITS: NonNullable<AppOptions['limits']> = Object.fromEntries((['telegram', 'wechat'] as const).map((channel) => [channel, {
  chat: { private: [{ limit: 1_000, windowMs: 1_000 }], group: [{ limit: 1_000, windowMs: 1_000 }] },
  account: [{ limit: 100_000, windowMs: 1_000 }],
  broadcast: [],
  concurrency: 32,
  jitter: false,
}]));

/** A dispatcher that polls often and retries soon, so that tests of retries and crashes take a few seconds. */
export const FAST_DISPATCH: NonNullable<AppOptions['dispatch']> = { pollMs: 50, leaseMs: 1_000, sendTimeoutMs: 2_000, retryFirstMs: 100, retryMaxMs: 400 };

export interface TestApp {
  /** The server: inject, close. */
  readonly app: FastifyInstance;
  /** The instance carrying the app's decorations (the same as `app` since the app is registered with fastify-plugin). */
  readonly scope: FastifyInstance;
  readonly store: Store;
  /** Warnings and errors the app logged. */
  readonly logs: LogLine[];
  readonly errors: () => LogLine[];
}

/**
 * The real service as server.ts builds it: Fastify with the same body limit and the app plugin, its
 * configuration from loadConfig. The logger keeps warnings and errors in memory (TEST_LOG=1 prints them too).
 */
export async function buildApp(opts: TestAppOptions): Promise<TestApp> {
  const env: Record<string, string> = {
    DATABASE_URL: opts.databaseUrl,
    KNOWLEDGE_DIR,
    DATA_DIR: tempDir('chunfeng-data-'),
    LOG_LEVEL: 'warn',
    ...(opts.telegram
      ? {
          TELEGRAM_BOT_TOKEN: opts.telegram.api.token,
          TELEGRAM_API_ROOT: opts.telegram.api.apiRoot,
          ...(opts.telegram.webhookSecret ? { TELEGRAM_WEBHOOK_SECRET: opts.telegram.webhookSecret } : {}),
        }
      : {}),
    ...opts.env,
  };
  const config = loadConfig(env);
  const logs: LogLine[] = [];
  const fastify = await buildServer(
    config,
    {
      index: knowledgeIndex(), adapters: opts.adapters, flood: opts.flood, store: opts.store, startRetry: opts.startRetry, noticeJob: opts.noticeJob,
      limits: opts.limits === null ? undefined : (opts.limits ?? OPEN_LIMITS), dispatch: opts.dispatch ?? FAST_DISPATCH,
    },
    {
      write(line: string) {
        logs.push(JSON.parse(line) as LogLine);
        if (process.env.TEST_LOG) process.stderr.write(line);
      },
    },
  );
  await fastify.ready();
  return { app: fastify, scope: fastify, store: fastify.store, logs, errors: () => logs.filter((l) => l.level >= 50) };
}

/**
 * For a suite: one fake Bot API, and for each test a fresh database with the app in webhook mode,
 * ready for updates (calls and failures of the fake forgotten). Read `api` and `t` inside tests.
 */
export function webhookApps(db: DatabaseTarget, secret: string, options: Omit<TestAppOptions, 'databaseUrl' | 'telegram'> = {}): { readonly api: FakeTelegramApi; readonly t: TestApp } {
  const state: { api?: FakeTelegramApi; t?: TestApp; database?: TestDatabase } = {};
  beforeAll(async () => {
    state.api = await FakeTelegramApi.start();
  });
  afterAll(async () => {
    await state.api?.close();
  });
  beforeEach(async () => {
    const api = state.api!;
    state.database = await db.create();
    state.t = await buildApp({ ...options, databaseUrl: state.database.url, telegram: { api, webhookSecret: secret } });
    await waitForWebhook(state.t.app, secret);
    api.clearCalls();
    api.clearFailures();
  });
  afterEach(async () => {
    await state.t?.app.close();
    await state.database?.cleanup();
  });
  return {
    get api() {
      return state.api!;
    },
    get t() {
      return state.t!;
    },
  };
}

/** Resolves once the webhook takes updates (the Telegram adapter has started), or throws after `timeoutMs`. */
export async function waitForWebhook(app: FastifyInstance, secret: string, timeoutMs = 5_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    // An update without a message: the adapter accepts it and nothing reaches the gateway.
    const res = await app.inject({ method: 'POST', url: '/telegram/webhook', headers: { 'x-telegram-bot-api-secret-token': secret }, payload: { update_id: 0 } });
    if (res.statusCode === 200) return;
    if (res.statusCode !== 503 || Date.now() > until) throw new Error(`webhook not ready: ${res.statusCode} ${res.body}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Sends one update to the webhook with the secret. */
export function postUpdate(app: FastifyInstance, secret: string, update: unknown): Promise<LightMyRequestResponse> {
  return app.inject({ method: 'POST', url: '/telegram/webhook', headers: { 'x-telegram-bot-api-secret-token': secret }, payload: update as object });
}

/** The store's id of a chat (upsert returns the existing id). */
export function storeChatId(store: Store, channel: Channel, channelChatId: string | number, kind: 'private' | 'group'): Promise<string> {
  return store.identities.upsertChat({ channel, channelChatId: String(channelChatId), kind });
}

// ---------------------------------------------------------------------------------------------
// Metrics

/** The sum of the samples of `name` whose labels include `labels`, from Prometheus text. */
export function metricValue(text: string, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line);
    if (!m || m[1] !== name) continue;
    const found = Object.fromEntries([...(m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)].map((l) => [l[1], l[2]]));
    if (Object.entries(labels).every(([k, v]) => found[k] === v)) sum += Number(m[3]);
  }
  return sum;
}

export async function metricsText(app: FastifyInstance): Promise<string> {
  const res = await app.inject({ method: 'GET', url: '/metrics' });
  if (res.statusCode !== 200) throw new Error(`/metrics answered ${res.statusCode}`);
  return res.body;
}

// ---------------------------------------------------------------------------------------------
// Telegram updates

export interface TgUser {
  readonly id: number;
  readonly is_bot: false;
  readonly first_name: string;
  readonly last_name?: string;
  readonly username?: string;
}

export const ZHANG: TgUser = { id: 1001, is_bot: false, first_name: '张', last_name: '会计', username: 'zhang_kuaiji' };
export const LI: TgUser = { id: 1002, is_bot: false, first_name: '李', last_name: '出纳' };
export const GROUP = { id: -1001234567890, type: 'supergroup', title: '春风办税群' } as const;

export type TextUpdate = Update.MessageUpdate<Message.TextMessage>;

/** Builds Telegram updates with increasing update and message ids. */
export class UpdateBuilder {
  private updateId = 10_000;
  private messageId = 500;

  constructor(readonly bot: FakeBot = DEFAULT_BOT) {}

  /** A text message in the user's private chat with the bot. */
  privateText(text: string, from: TgUser = ZHANG): TextUpdate {
    return this.wrap({ chat: { id: from.id, type: 'private', first_name: from.first_name }, from, text });
  }

  /**
   * A text message in a group; `mention` puts "@botname " in front with its mention entity,
   * `replyTo` makes it a reply to one of the bot's messages.
   */
  groupText(text: string, opts: { from?: TgUser; mention?: boolean; replyTo?: { message_id: number; text?: string } } = {}): TextUpdate {
    const from = opts.from ?? ZHANG;
    const prefix = opts.mention ? `@${this.bot.username} ` : '';
    const full = `${prefix}${text}`;
    const entities = opts.mention ? [{ type: 'mention' as const, offset: 0, length: this.bot.username.length + 1 }] : undefined;
    const reply = opts.replyTo
      ? {
          reply_to_message: {
            message_id: opts.replyTo.message_id,
            date: Math.floor(Date.now() / 1000) - 5,
            chat: { ...GROUP },
            from: { id: this.bot.id, is_bot: true, first_name: this.bot.first_name, username: this.bot.username },
            text: opts.replyTo.text ?? '……',
          },
        }
      : {};
    return this.wrap({ chat: { ...GROUP }, from, text: full, ...(entities ? { entities } : {}), ...reply });
  }

  /** The same message again under a new update id (Telegram never does this; a relay might). */
  nextUpdateId(): number {
    return ++this.updateId;
  }

  private wrap(fields: Record<string, unknown>): TextUpdate {
    return {
      update_id: ++this.updateId,
      message: { message_id: ++this.messageId, date: Math.floor(Date.now() / 1000), ...fields },
    } as unknown as TextUpdate;
  }
}

// ---------------------------------------------------------------------------------------------
// A fake channel

/** A sent message and when it finished sending. */
export interface FakeSend {
  readonly out: OutboundMessage;
  readonly startedAt: number;
  /** Date.now() when the send started, to compare with the store's (epoch-aligned) budget windows. */
  readonly epochMs: number;
  finishedAt: number | null;
}

/**
 * An in-memory channel: the test delivers messages straight to the gateway's handler and reads
 * what was sent. `sendDelayMs` makes each send slow (graceful shutdown).
 */
export class FakeAdapter implements ChannelAdapter {
  readonly maxLength = 4096;
  readonly sends: FakeSend[] = [];
  stopped = false;
  sendDelayMs = 0;
  private handler: InboundHandler | null = null;
  private markStarted: () => void = () => undefined;
  /** Resolves once the app has started the adapter. */
  readonly started = new Promise<void>((resolve) => (this.markStarted = resolve));
  private nextId = 1;

  constructor(
    readonly channel: Channel = 'telegram',
    private readonly names: readonly string[] = [DEFAULT_BOT.username],
  ) {}

  botNames = (): readonly string[] => this.names;

  async start(handler: InboundHandler): Promise<void> {
    this.handler = handler;
    this.markStarted();
  }

  /** Failures the next sends meet, in order (each one is not sent). */
  readonly failures: Error[] = [];
  /** Sends refused by a failure from {@link failures}. */
  readonly refused: OutboundMessage[] = [];

  async send(out: OutboundMessage): Promise<string | null> {
    const failure = this.failures.shift();
    if (failure) {
      this.refused.push(out);
      throw failure;
    }
    const record: FakeSend = { out, startedAt: performance.now(), epochMs: Date.now(), finishedAt: null };
    this.sends.push(record);
    if (this.sendDelayMs > 0) await new Promise((r) => setTimeout(r, this.sendDelayMs));
    record.finishedAt = performance.now();
    return `sent-${this.sends.length}`;
  }

  async stop(): Promise<void> {
    this.stopped = true;
  }

  /** Hands a message to the gateway as the network would; resolves when it has been handled. */
  async deliver(msg: InboundMessage): Promise<void> {
    await this.started;
    if (!this.handler) throw new Error('adapter not started');
    await this.handler(msg);
  }

  /** Resolves once `count` messages have been sent in all (the dispatcher sends after the handler has resolved). */
  async waitForSends(count: number, timeoutMs = 5_000): Promise<FakeSend[]> {
    const until = performance.now() + timeoutMs;
    while (this.sends.length < count) {
      if (performance.now() > until) throw new Error(`waited ${timeoutMs} ms for ${count} sends, got ${this.sends.length}`);
      await new Promise((r) => setTimeout(r, 5));
    }
    return this.sends;
  }

  /** Texts sent to one chat, oldest first. */
  textsTo(chatId: string): string[] {
    return this.sends.filter((s) => s.out.chatId === chatId).map((s) => s.out.text);
  }

  /** A message from `user` in `chatId`; group messages mention the bot unless `addressed` is false. */
  message(text: string, opts: { chatId?: string; chatKind?: 'private' | 'group'; userId?: string; userName?: string; mentionsBot?: boolean; messageId?: string } = {}): InboundMessage {
    const chatKind = opts.chatKind ?? 'group';
    const userId = opts.userId ?? 'u-zhang';
    return {
      channel: this.channel,
      chatId: opts.chatId ?? (chatKind === 'group' ? 'g-1' : userId),
      chatKind,
      userId,
      userName: opts.userName ?? userId,
      messageId: opts.messageId ?? `m-${this.nextId++}-${randomBytes(3).toString('hex')}`,
      text,
      mentionsBot: opts.mentionsBot ?? chatKind === 'group',
      replyToBot: false,
      at: new Date(),
    };
  }
}
