import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A fake Telegram Bot API on 127.0.0.1 for tests: telegraf talks to it through `apiRoot`. It records
 * every call, answers the few methods the gateway uses, serves queued updates to long polling, and
 * can be told to refuse a method the way Telegram does (429 with retry_after, 403 blocked, ...).
 */

/** The bot the fake API says it is (getMe). */
export interface FakeBot {
  readonly id: number;
  readonly is_bot: true;
  readonly first_name: string;
  readonly username: string;
}

export const DEFAULT_BOT: FakeBot = { id: 7_000_001, is_bot: true, first_name: '春风税务助手', username: 'chunfeng_bot' };

/** One call as the fake received it. */
export interface ApiCall {
  readonly method: string;
  readonly params: Record<string, unknown>;
  /** performance.now() when the request's body had arrived. */
  readonly at: number;
  /** What the fake answered with `ok: true` (the sent message for sendMessage); undefined for refusals. */
  result?: unknown;
}

/** A message the fake sent for the bot (the result of sendMessage). */
export interface SentMessage {
  readonly message_id: number;
  readonly from: FakeBot;
  readonly chat: { readonly id: number; readonly type: string };
  readonly date: number;
  readonly text: string;
  readonly reply_to_message?: { readonly message_id: number };
}

/** How to refuse a call, as Telegram does. */
export interface ApiFailure {
  /** HTTP status and `error_code`: 400, 403, 429, 500 ... */
  readonly code: number;
  readonly description: string;
  /** Seconds, sent as `parameters.retry_after` (429). */
  readonly retryAfter?: number;
}

export const TOO_MANY_REQUESTS = (retryAfter = 3): ApiFailure => ({ code: 429, description: `Too Many Requests: retry after ${retryAfter}`, retryAfter });
export const BOT_BLOCKED: ApiFailure = { code: 403, description: 'Forbidden: bot was blocked by the user' };

export interface FakeTelegramOptions {
  readonly token?: string;
  readonly bot?: FakeBot;
  /** How long an empty getUpdates is held before answering [] (capped by the call's own timeout). */
  readonly holdMs?: number;
}

interface Waiter {
  readonly test: () => boolean;
  readonly resolve: () => void;
}

interface HeldPoll {
  readonly offset: number;
  readonly limit: number;
  readonly res: ServerResponse;
  readonly timer: NodeJS.Timeout;
}

export class FakeTelegramApi {
  readonly token: string;
  readonly bot: FakeBot;
  /** Every call, oldest first. */
  readonly calls: ApiCall[] = [];
  private readonly holdMs: number;
  private readonly server: Server;
  private readonly queue: unknown[] = [];
  private readonly held = new Set<HeldPoll>();
  private readonly failures = new Map<string, { failure: ApiFailure; times: number }>();
  private readonly delays = new Map<string, number>();
  private readonly pages = new Map<string, { status: number; times: number }>();
  private readonly drops = new Map<string, number>();
  private waiters: Waiter[] = [];
  private nextMessageId = 1;
  private port = 0;

  private constructor(opts: FakeTelegramOptions) {
    this.token = opts.token ?? '123456:TEST-token_for-chunfeng';
    this.bot = opts.bot ?? DEFAULT_BOT;
    this.holdMs = opts.holdMs ?? 200;
    this.server = createServer((req, res) => void this.onRequest(req, res));
    this.server.keepAliveTimeout = 1_000;
  }

  /** Starts a fake on a random port of 127.0.0.1. */
  static async start(opts: FakeTelegramOptions = {}): Promise<FakeTelegramApi> {
    const api = new FakeTelegramApi(opts);
    await new Promise<void>((resolve, reject) => {
      api.server.once('error', reject);
      api.server.listen(0, '127.0.0.1', () => resolve());
    });
    api.port = (api.server.address() as AddressInfo).port;
    return api;
  }

  /** What TELEGRAM_API_ROOT should be (no path: telegraf adds /bot<token>/<method>). */
  get apiRoot(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** The calls of one method, oldest first. */
  callsOf(method: string): ApiCall[] {
    return this.calls.filter((c) => c.method === method);
  }

  /** The params of every sendMessage, oldest first (refused ones included). */
  get sent(): Record<string, unknown>[] {
    return this.callsOf('sendMessage').map((c) => c.params);
  }

  /** The messages the fake accepted (answered ok), oldest first. */
  get delivered(): SentMessage[] {
    return this.callsOf('sendMessage').flatMap((c) => (c.result ? [c.result as SentMessage] : []));
  }

  /** Forgets recorded calls (not queued updates or failures). */
  clearCalls(): void {
    this.calls.length = 0;
  }

  /** Queues updates for getUpdates; a held long poll gets them at once. */
  queueUpdates(...updates: unknown[]): void {
    this.queue.push(...updates);
    for (const poll of [...this.held]) this.answerPoll(poll);
  }

  /** Updates queued and not yet confirmed by a later offset. */
  get pendingUpdates(): number {
    return this.queue.length;
  }

  /** Answers the next `times` calls of `method` with this failure (Infinity: until {@link clearFailures}). */
  fail(method: string, failure: ApiFailure, times = 1): void {
    this.failures.set(method, { failure, times });
  }

  clearFailures(): void {
    this.failures.clear();
    this.pages.clear();
    this.drops.clear();
  }

  /**
   * Answers the next `times` calls of `method` with an HTML page instead of JSON, as a proxy, a
   * firewall or a captive portal in front of the Bot API does.
   */
  servePage(method: string, status = 200, times = 1): void {
    this.pages.set(method, { status, times });
  }

  /**
   * Closes the connection of the next `times` calls of `method` without an answer, as a network
   * failure would; the call is recorded, and the message counts as not sent.
   */
  dropConnections(method: string, times = 1): void {
    this.drops.set(method, times);
  }

  /** Answers every call of `method` only after `ms` (0: no delay). */
  delay(method: string, ms: number): void {
    if (ms > 0) this.delays.set(method, ms);
    else this.delays.delete(method);
  }

  /** Resolves once `test` holds after some call (or at once); rejects after `timeoutMs`. */
  waitUntil(test: () => boolean, timeoutMs = 5_000, what = 'condition'): Promise<void> {
    if (test()) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        reject(new Error(`fake Telegram API: timed out after ${timeoutMs} ms waiting for ${what}; calls: ${this.calls.map((c) => c.method).join(', ')}`));
      }, timeoutMs);
      const waiter: Waiter = {
        test,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      };
      this.waiters.push(waiter);
    });
  }

  /** Resolves once `method` has been called at least `count` times in all. */
  waitForCalls(method: string, count = 1, timeoutMs = 5_000): Promise<ApiCall[]> {
    return this.waitUntil(() => this.callsOf(method).length >= count, timeoutMs, `${count} × ${method}`).then(() => this.callsOf(method));
  }

  /** Answers held polls and stops listening, dropping open keep-alive connections. */
  async close(): Promise<void> {
    for (const poll of [...this.held]) this.answerPoll(poll, true);
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  private async onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.apiRoot);
    const match = /^\/bot([^/]+)\/([A-Za-z]+)$/.exec(url.pathname);
    let params: Record<string, unknown>;
    try {
      params = { ...Object.fromEntries(url.searchParams), ...parseBody(req.headers['content-type'] ?? '', await readBody(req)) };
    } catch {
      return reply(res, 400, { ok: false, error_code: 400, description: 'Bad Request: cannot parse parameters' });
    }
    if (!match) return reply(res, 404, { ok: false, error_code: 404, description: 'Not Found' });
    const [, token, method = ''] = match;
    const call: ApiCall = { method, params, at: performance.now() };
    this.calls.push(call);
    this.notify();
    const drops = this.drops.get(method) ?? 0;
    if (drops > 0) {
      this.drops.set(method, drops - 1);
      req.socket.destroy();
      this.notify();
      return;
    }
    const delay = this.delays.get(method);
    if (delay) await new Promise((r) => setTimeout(r, delay));
    if (token !== this.token) {
      return reply(res, 401, { ok: false, error_code: 401, description: 'Unauthorized' });
    }

    try {
      this.answer(call, res);
    } finally {
      this.notify();
    }
  }

  private answer(call: ApiCall, res: ServerResponse): void {
    const { method, params } = call;
    const page = this.pages.get(method);
    if (page && page.times > 0) {
      page.times -= 1;
      if (page.times <= 0) this.pages.delete(method);
      const html = '<!DOCTYPE html><html><head><title>访问受限</title></head><body><h1>访问受限</h1><p>请联系网络管理员</p></body></html>';
      res.writeHead(page.status, { 'content-type': 'text/html; charset=utf-8', 'content-length': Buffer.byteLength(html) });
      res.end(html);
      return;
    }
    const planned = this.failures.get(method);
    if (planned && planned.times > 0) {
      planned.times -= 1;
      if (planned.times <= 0) this.failures.delete(method);
      const { code, description, retryAfter } = planned.failure;
      return reply(res, code, { ok: false, error_code: code, description, ...(retryAfter !== undefined ? { parameters: { retry_after: retryAfter } } : {}) });
    }

    switch (method) {
      case 'getMe':
        return reply(res, 200, { ok: true, result: { ...this.bot, can_join_groups: true, can_read_all_group_messages: false, supports_inline_queries: false } });
      case 'deleteWebhook':
      case 'setWebhook':
        return reply(res, 200, { ok: true, result: true, description: 'Webhook was deleted' });
      case 'sendMessage':
        call.result = this.message(params);
        return reply(res, 200, { ok: true, result: call.result });
      case 'getUpdates':
        return this.getUpdates(params, res);
      case 'answerCallbackQuery':
        return reply(res, 200, { ok: true, result: true });
      case 'editMessageText':
        call.result = { ...this.message(params), message_id: Number(params.message_id) };
        return reply(res, 200, { ok: true, result: call.result });
      default:
        return reply(res, 404, { ok: false, error_code: 404, description: 'Not Found: method not found' });
    }
  }

  private message(params: Record<string, unknown>): Record<string, unknown> {
    const chatId = Number(params.chat_id);
    const replyTo = (params.reply_parameters as { message_id?: number } | undefined)?.message_id ?? Number(params.reply_to_message_id ?? NaN);
    return {
      message_id: this.nextMessageId++,
      from: this.bot,
      chat: chatId < 0 ? { id: chatId, type: 'supergroup', title: '测试群' } : { id: chatId, type: 'private', first_name: '用户' },
      date: Math.floor(Date.now() / 1000),
      text: String(params.text ?? ''),
      ...(Number.isFinite(replyTo) ? { reply_to_message: { message_id: replyTo, date: Math.floor(Date.now() / 1000), chat: { id: chatId, type: chatId < 0 ? 'supergroup' : 'private' } } } : {}),
    };
  }

  private getUpdates(params: Record<string, unknown>, res: ServerResponse): void {
    const offset = Number(params.offset ?? 0) || 0;
    const limit = Math.min(100, Math.max(1, Number(params.limit ?? 100) || 100));
    const timeoutMs = Math.max(0, Number(params.timeout ?? 0) || 0) * 1000;
    this.confirm(offset);
    const hold = Math.min(this.holdMs, timeoutMs);
    if (this.queue.length > 0 || hold === 0) return this.answerPoll({ offset, limit, res, timer: setTimeout(() => undefined, 0) });
    const poll: HeldPoll = { offset, limit, res, timer: setTimeout(() => this.answerPoll(poll), hold) };
    this.held.add(poll);
    // The client gave up (telegraf's stop() aborts the request): forget the poll.
    res.on('close', () => {
      clearTimeout(poll.timer);
      this.held.delete(poll);
    });
  }

  /** Telegram forgets updates below the offset a client confirms. */
  private confirm(offset: number): void {
    if (offset <= 0) return;
    const kept = this.queue.filter((u) => updateId(u) >= offset);
    this.queue.splice(0, this.queue.length, ...kept);
  }

  private answerPoll(poll: HeldPoll, empty = false): void {
    clearTimeout(poll.timer);
    this.held.delete(poll);
    if (poll.res.writableEnded || poll.res.destroyed) return;
    const updates = empty ? [] : this.queue.filter((u) => updateId(u) >= poll.offset).slice(0, poll.limit);
    reply(poll.res, 200, { ok: true, result: updates });
  }

  private notify(): void {
    const ready = this.waiters.filter((w) => w.test());
    if (ready.length === 0) return;
    this.waiters = this.waiters.filter((w) => !ready.includes(w));
    for (const w of ready) w.resolve();
  }
}

function updateId(update: unknown): number {
  return Number((update as { update_id?: unknown }).update_id);
}

function reply(res: ServerResponse, status: number, body: unknown): void {
  if (res.destroyed || res.writableEnded) return;
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/** JSON, urlencoded form or multipart form (text fields; JSON-looking values decoded as Telegram does). */
function parseBody(contentType: string, body: string): Record<string, unknown> {
  if (!body) return {};
  if (contentType.includes('application/json')) return JSON.parse(body) as Record<string, unknown>;
  if (contentType.includes('application/x-www-form-urlencoded')) {
    return Object.fromEntries([...new URLSearchParams(body)].map(([k, v]) => [k, formValue(v)]));
  }
  const boundary = /boundary=(?:"([^"]+)"|([^;]+))/.exec(contentType);
  if (contentType.includes('multipart/form-data') && boundary) {
    const out: Record<string, unknown> = {};
    for (const part of body.split(`--${boundary[1] ?? boundary[2]}`)) {
      const name = /name="([^"]+)"/.exec(part)?.[1];
      const split = part.indexOf('\r\n\r\n');
      if (name && split >= 0) out[name] = formValue(part.slice(split + 4).replace(/\r\n$/, ''));
    }
    return out;
  }
  return {};
}

function formValue(v: string): unknown {
  if (/^[[{]/.test(v)) {
    try {
      return JSON.parse(v) as unknown;
    } catch {
      return v;
    }
  }
  return v;
}
