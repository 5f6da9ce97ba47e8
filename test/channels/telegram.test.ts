import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { BODY_LIMIT } from '../../src/server.js';
import { formatMediaOnly } from '../../src/core/conversation/format.js';
import { connect, type AddressInfo } from 'node:net';
import { pino } from 'pino';
import type { FastifyBaseLogger } from 'fastify';
import type { ChannelError } from '../../src/channels/channel.js';
import { TelegramAdapter } from '../../src/channels/telegram.js';
import { OUTBOX_PRIORITY, type OutboxItem } from '../../src/store/index.js';
import { BOT_BLOCKED, FakeTelegramApi, TOO_MANY_REQUESTS } from '../fakes/telegram-api.js';
import {
  DATABASES, GROUP, LI, UpdateBuilder, ZHANG, buildApp, describeEachDatabase, knowledgeIndex, metricValue, metricsText, postUpdate,
  removeTempDirs, storeChatId, waitForWebhook, webhookApps, type TestApp, type TestDatabase,
} from './helpers.js';

const SECRET = 'chunfeng-webhook_secret-42';

/** Questions the real knowledge answers, and one it can only narrow down. */
const PRIVATE_Q = '个体户注销要办什么手续';
const GROUP_Q = '发票丢了怎么办';
const VAGUE_Q = '留抵退税';

afterAll(() => removeTempDirs());

/** A logger for adapters tested on their own. */
function silentLog(): FastifyBaseLogger {
  return pino({ level: 'silent' }) as unknown as FastifyBaseLogger;
}

/** The outbox row of the (one) reply in a Telegram chat. */
async function replyRow(t: TestApp, chatId: number): Promise<OutboxItem> {
  const chat = await storeChatId(t.store, 'telegram', chatId, chatId < 0 ? 'group' : 'private');
  const reply = (await t.store.messages.recent(chat, 10)).find((m) => m.direction === 'out');
  if (!reply) throw new Error(`no reply in chat ${chatId}`);
  const row = await t.store.outbox.get(reply.id);
  if (!row) throw new Error(`no outbox row for message ${reply.id}`);
  return row;
}

describe('the questions these tests rely on', () => {
  it('are answered or narrowed down by the real knowledge', () => {
    const index = knowledgeIndex();
    for (const q of [PRIVATE_Q, GROUP_Q]) {
      const a = index.ask(q);
      expect(a.answered, q).toBe(true);
      expect(a.sources.length + a.citations.length, q).toBeGreaterThan(0);
    }
    const vague = index.ask(VAGUE_Q);
    expect(vague.answered).toBe(false);
    expect(vague.reason).toBe('uncertain');
    expect(vague.suggestions.length).toBeGreaterThanOrEqual(2);
  });
});

/** The title line of the answer the index gives to `q`. */
function titleOf(q: string): string {
  const a = knowledgeIndex().ask(q);
  if (!a.title) throw new Error(`no answer for ${q}`);
  return `【${a.title}】`;
}

describeEachDatabase('Telegram webhook', (db) => {
  const suite = webhookApps(db, SECRET);
  let api: FakeTelegramApi;
  let t: TestApp;
  let app: FastifyInstance;
  let u: UpdateBuilder;

  beforeEach(() => {
    ({ api, t } = suite);
    app = t.app;
    u = new UpdateBuilder(api.bot);
  });

  const post = (update: unknown): Promise<LightMyRequestResponse> => postUpdate(app, SECRET, update);
  /** The sendMessage calls once there are `n` (the dispatcher sends after the webhook has answered). */
  const sends = async (n: number): Promise<Record<string, unknown>[]> => {
    await api.waitForCalls('sendMessage', n);
    return api.sent;
  };
  /** Lets anything the dispatcher would still send arrive, for checks that nothing more was sent. */
  const settle = (): Promise<void> => new Promise((r) => setTimeout(r, 150));

  describe('refuses what is not a Telegram update', () => {
    it('answers 401 CHUNFENG_UNAUTHORIZED without the secret or with a wrong one, and handles nothing', async () => {
      const update = u.privateText(PRIVATE_Q);
      for (const headers of [{}, { 'x-telegram-bot-api-secret-token': 'wrong' }, { 'x-telegram-bot-api-secret-token': `${SECRET}x` }, { 'x-telegram-bot-api-secret-token': '' }]) {
        const res = await app.inject({ method: 'POST', url: '/telegram/webhook', headers, payload: update });
        expect(res.statusCode).toBe(401);
        expect(res.json()).toMatchObject({ error: { code: 'CHUNFENG_UNAUTHORIZED' } });
      }
      await settle();
      expect(api.sent).toHaveLength(0);
      // The rejected update was not marked as seen: Telegram's retry with the secret is answered.
      await post(update);
      expect(await sends(1)).toHaveLength(1);
    });

    it('answers 400 to malformed JSON', async () => {
      for (const payload of ['{"update_id": 1, "message": {', 'update_id=1', '']) {
        const res = await app.inject({
          method: 'POST', url: '/telegram/webhook', payload,
          headers: { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': SECRET },
        });
        expect(res.statusCode, JSON.stringify(payload)).toBe(400);
        expect(res.json()).toMatchObject({ error: { code: 'CHUNFENG_BAD_REQUEST' } });
      }
      expect(api.sent).toHaveLength(0);
    });

    it('answers 400 to JSON that is not an update', async () => {
      const notUpdates = [{}, { message: { text: 'hi' } }, { update_id: '17' }, { update_id: 1.5 }, { update_id: null }, [], [{ update_id: 1 }], 42, 'update', null];
      for (const body of notUpdates) {
        const res = await app.inject({
          method: 'POST', url: '/telegram/webhook', payload: JSON.stringify(body),
          headers: { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': SECRET },
        });
        expect(res.statusCode, JSON.stringify(body)).toBe(400);
        expect(res.json()).toMatchObject({ error: { code: 'CHUNFENG_BAD_REQUEST' } });
      }
      expect(api.sent).toHaveLength(0);
    });

    it(`answers 413 CHUNFENG_TOO_LARGE to a body over the server's limit (${BODY_LIMIT} bytes)`, async () => {
      const update = u.privateText(`请问${'留抵退税'.repeat(Math.ceil(BODY_LIMIT / 12) + 10)}`);
      const payload = JSON.stringify(update);
      expect(Buffer.byteLength(payload)).toBeGreaterThan(BODY_LIMIT);
      // Under Fastify's default of 1 MiB: the 413 comes from the limit server.ts sets.
      expect(Buffer.byteLength(payload)).toBeLessThan(1024 * 1024);
      const res = await app.inject({
        method: 'POST', url: '/telegram/webhook', payload,
        headers: { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': SECRET },
      });
      expect(res.statusCode).toBe(413);
      expect(res.json()).toMatchObject({ error: { code: 'CHUNFENG_TOO_LARGE' } });
      expect(api.sent).toHaveLength(0);
    });

    it('acknowledges an edited message and says nothing; a sticker in a private chat gets the one line on text questions', async () => {
      const edited = { update_id: u.nextUpdateId(), edited_message: { ...u.privateText(PRIVATE_Q).message } };
      expect((await post(edited)).statusCode).toBe(200);
      await settle();
      expect(api.sent).toHaveLength(0);
      const sticker = { update_id: u.nextUpdateId(), message: { message_id: 9, date: 1, chat: { id: ZHANG.id, type: 'private' }, from: ZHANG, sticker: { file_id: 'x' } } };
      expect((await post(sticker)).statusCode).toBe(200);
      await api.waitUntil(() => api.sent.length > 0, 5_000, 'the line on text questions');
      expect(api.sent.map((m) => m.text)).toEqual([formatMediaOnly(null)]);
    });

    it('answers 401 to a wrong secret before reading the body: a body over the limit gets 401, not 413', async () => {
      const payload = JSON.stringify(u.privateText(`请问${'留抵退税'.repeat(Math.ceil(BODY_LIMIT / 12) + 10)}`));
      expect(Buffer.byteLength(payload)).toBeGreaterThan(BODY_LIMIT);
      const res = await app.inject({ method: 'POST', url: '/telegram/webhook', payload, headers: { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': 'wrong' } });
      expect(res.statusCode).toBe(401);
      expect(res.json()).toMatchObject({ error: { code: 'CHUNFENG_UNAUTHORIZED' } });
    });
  });

  describe('answers', () => {
    it('a private question with the entry title and its 依据 line', async () => {
      const update = u.privateText(PRIVATE_Q);
      const res = await post(update);
      expect(res.statusCode).toBe(200);
      expect(res.json()).toEqual({ ok: true });
      // webhookReply is off: the answer goes to the Bot API, sent by the dispatcher once the webhook's update is stored.
      const sent = (await sends(1))[0]!;
      expect(sent.chat_id).toBe(String(ZHANG.id));
      expect(sent.text).toContain(titleOf(PRIVATE_Q));
      expect(sent.text).toMatch(/\n依据：\S/);
      // A private chat needs no quote.
      expect(sent.reply_parameters).toBeUndefined();
    });

    it('a group message that mentions @chunfeng_bot, quoting the asker', async () => {
      const update = u.groupText(GROUP_Q, { mention: true });
      await post(update);
      const sent = (await sends(1))[0]!;
      expect(sent.chat_id).toBe(String(GROUP.id));
      expect(sent.text).toContain(titleOf(GROUP_Q));
      expect(sent.reply_parameters).toMatchObject({ message_id: update.message.message_id });
    });

    it('a group question opening with 请问, and stays silent on group chatter', async () => {
      for (const chatter of ['收到', '好的，谢谢', '1', '发票丢了怎么办']) await post(u.groupText(chatter, { from: LI }));
      await settle();
      expect(api.sent).toHaveLength(0);

      const asked = u.groupText(`请问${GROUP_Q}`, { from: LI });
      await post(asked);
      await sends(1);
      expect(api.sent[0]!.text).toContain(titleOf(GROUP_Q));
      expect(api.sent[0]!.reply_parameters).toMatchObject({ message_id: asked.message.message_id });
    });

    it("a reply to the bot's own message", async () => {
      await post(u.groupText(PRIVATE_Q, { mention: true }));
      await api.waitUntil(() => api.delivered.length === 1);
      const botMessage = api.delivered[0]!;
      const followUp = u.groupText(GROUP_Q, { from: ZHANG, replyTo: { message_id: botMessage.message_id, text: botMessage.text } });
      await post(followUp);
      await sends(2);
      expect(api.sent[1]!.text).toContain(titleOf(GROUP_Q));
      expect(api.sent[1]!.reply_parameters).toMatchObject({ message_id: followUp.message.message_id });
      // A reply to another member's message is chatter.
      const other = u.groupText(GROUP_Q, { from: LI });
      const toMember = { ...other, message: { ...other.message, reply_to_message: { ...other.message, message_id: 1, from: ZHANG } } };
      await post(toMember);
      await settle();
      expect(api.sent).toHaveLength(2);
    });

    it('a vague question with numbered suggestions, then "2" with the second one', async () => {
      const suggestions = knowledgeIndex().ask(VAGUE_Q).suggestions;
      await post(u.privateText(VAGUE_Q));
      const offer = String((await sends(1))[0]!.text);
      expect(offer).toContain('您是不是想问');
      suggestions.forEach((s, i) => expect(offer).toContain(`${i + 1}. ${s.title}`));

      await post(u.privateText('2'));
      await sends(2);
      const picked = knowledgeIndex().entry(suggestions[1]!.id)!;
      expect(api.sent[1]!.text).toContain(`【${picked.title}】`);
      expect(api.sent[1]!.text).toContain('依据：');
    });

    it('in a group, a bare "2" answers the user who was offered the list, and is chatter from anyone else', async () => {
      const suggestions = knowledgeIndex().ask(VAGUE_Q).suggestions;
      await post(u.groupText(VAGUE_Q, { mention: true, from: ZHANG }));
      expect(String((await sends(1))[0]!.text)).toContain('您是不是想问');
      await post(u.groupText('2', { from: LI }));
      await post(u.groupText('2', { from: ZHANG }));
      await sends(2);
      await settle();
      expect(api.sent).toHaveLength(2);
      expect(api.sent[1]!.text).toContain(`【${knowledgeIndex().entry(suggestions[1]!.id)!.title}】`);
    });
  });

  describe('handles each update once', () => {
    it('the same update twice, one after the other', async () => {
      const update = u.privateText(PRIVATE_Q);
      expect((await post(update)).statusCode).toBe(200);
      expect((await post(update)).statusCode).toBe(200);
      await sends(1);
      await settle();
      expect(api.sent).toHaveLength(1);
      expect(metricValue(await metricsText(app), 'chunfeng_messages_dropped_total', { channel: 'telegram', reason: 'duplicate' })).toBe(1);
    });

    it('the same update twice at the same moment', async () => {
      const update = u.privateText(PRIVATE_Q);
      const results = await Promise.all([post(update), post(update), post(update)]);
      expect(results.map((r) => r.statusCode)).toEqual([200, 200, 200]);
      await sends(1);
      await settle();
      expect(api.sent).toHaveLength(1);
    });
  });

  describe('when a reply cannot be sent at once', () => {
    it('waits out a 429 for its retry_after, pausing the bot, then sends once', async () => {
      api.fail('sendMessage', TOO_MANY_REQUESTS(1));
      expect((await post(u.privateText(PRIVATE_Q))).statusCode).toBe(200);
      await sends(1);
      const refusedAt = api.callsOf('sendMessage')[0]!.at;
      // Another question in the meantime waits too: the whole bot is paused.
      await post(u.privateText(GROUP_Q, LI));
      await api.waitUntil(() => api.delivered.length === 2, 5_000, 'both replies');
      const [first, second] = api.callsOf('sendMessage').slice(1).map((c) => c.at);
      expect(first! - refusedAt).toBeGreaterThanOrEqual(950);
      expect(second! - refusedAt).toBeGreaterThanOrEqual(950);
      expect(api.delivered.map((m) => m.chat.id).sort()).toEqual([ZHANG.id, LI.id].sort());

      await vi.waitFor(async () => expect(metricValue(await metricsText(app), 'chunfeng_messages_out_total', { channel: 'telegram' })).toBe(2));
      const metrics = await metricsText(app);
      expect(metricValue(metrics, 'chunfeng_send_failures_total', { channel: 'telegram', kind: 'rate_limited' })).toBe(1);
      expect(metricValue(metrics, 'chunfeng_outbox_retried_total', { channel: 'telegram' })).toBe(1);
      expect(JSON.stringify(t.logs.filter((l) => l.msg === '发送失败，稍后重试'))).toContain('429');
    });

    it('retries after a 5xx and after a dropped connection, then sends once', async () => {
      api.fail('sendMessage', { code: 502, description: 'Bad Gateway' });
      await post(u.privateText(PRIVATE_Q));
      await api.waitUntil(() => api.delivered.length === 1, 5_000, 'the retried reply');
      api.dropConnections('sendMessage', 1);
      await post(u.privateText(GROUP_Q, LI));
      await api.waitUntil(() => api.delivered.length === 2, 5_000, 'the reply after a dropped connection');
      await settle();
      expect(api.delivered.map((m) => m.chat.id)).toEqual([ZHANG.id, LI.id]);
      await vi.waitFor(async () => expect(metricValue(await metricsText(app), 'chunfeng_outbox_sent_total', { channel: 'telegram' })).toBe(2));
      const metrics = await metricsText(app);
      expect(metricValue(metrics, 'chunfeng_send_failures_total', { channel: 'telegram', kind: 'network' })).toBe(2);
      expect(metricValue(metrics, 'chunfeng_outbox_sent_total', { channel: 'telegram' })).toBe(2);
    });

    it('gives up after OUTBOX_MAX_ATTEMPTS network failures, keeping the reason on the row', async () => {
      api.fail('sendMessage', { code: 500, description: 'Internal Server Error' }, Infinity);
      const update = u.privateText(PRIVATE_Q);
      await post(update);
      await sends(8);
      await vi.waitFor(async () => expect(metricValue(await metricsText(app), 'chunfeng_outbox_failed_total', { channel: 'telegram' })).toBe(1), { timeout: 5_000 });
      const row = await replyRow(t, ZHANG.id);
      expect(row).toMatchObject({ state: 'failed', attempts: 8 });
      expect(row.lastError).toContain('Internal Server Error');
      await settle();
      expect(api.sent).toHaveLength(8);
    });

    it('marks a chat that blocked the bot (403) unreachable, and answers it again once it writes', async () => {
      api.fail('sendMessage', BOT_BLOCKED);
      await post(u.privateText(PRIVATE_Q));
      await vi.waitFor(async () => expect((await replyRow(t, ZHANG.id)).state).toBe('unreachable'));
      const chat = await storeChatId(t.store, 'telegram', ZHANG.id, 'private');
      expect((await t.store.identities.chat(chat))?.unreachableAt).not.toBeNull();
      expect(metricValue(await metricsText(app), 'chunfeng_send_failures_total', { channel: 'telegram', kind: 'unreachable' })).toBe(1);
      // Writing again means the user unblocked the bot: the reply goes out and the mark is cleared.
      await post(u.privateText(GROUP_Q));
      await api.waitUntil(() => api.delivered.length === 1);
      await vi.waitFor(async () => expect((await t.store.identities.chat(chat))?.unreachableAt).toBeNull());
    });

    it('fails a reply Telegram refuses (400) without retrying it', async () => {
      api.fail('sendMessage', { code: 400, description: 'Bad Request: message text is empty' });
      await post(u.privateText(PRIVATE_Q));
      await vi.waitFor(async () => expect((await replyRow(t, ZHANG.id)).state).toBe('failed'));
      await settle();
      expect(api.sent).toHaveLength(1);
      expect((await replyRow(t, ZHANG.id)).lastError).toContain('message text is empty');
    });
  });

  it('sends buttons queued with a message as an inline keyboard', async () => {
    const chatId = await storeChatId(t.store, 'telegram', ZHANG.id, 'private');
    await t.store.outbox.enqueue([{
      channel: 'telegram', chatId, channelChatId: String(ZHANG.id), kind: 'notice', priority: OUTBOX_PRIORITY.broadcast, text: '增值税留抵退税政策提醒',
      payload: { buttons: [[{ text: '已读', data: 'ack:notice-1' }]] },
    }]);
    t.scope.dispatcher.wake('telegram');
    const [sent] = await sends(1);
    expect(sent).toMatchObject({ text: '增值税留抵退税政策提醒', reply_markup: { inline_keyboard: [[{ text: '已读', callback_data: 'ack:notice-1' }]] } });
    await vi.waitFor(async () => expect(await t.store.outbox.depth()).toEqual([]));
  });

  it('/metrics shows messages in and out per channel, decisions by reason, the reply latency and the outbox', async () => {
    await post(u.privateText(PRIVATE_Q));
    await post(u.privateText(VAGUE_Q, LI));
    await post(u.groupText('收到'));
    await post(u.groupText(GROUP_Q, { mention: true }));
    await sends(3);
    await settle();
    const m = await metricsText(app);
    expect(metricValue(m, 'chunfeng_outbox_sent_total', { channel: 'telegram' })).toBe(3);
    expect(m).toMatch(/^# TYPE chunfeng_outbox_depth gauge$/m);
    expect(m).toMatch(/^# TYPE chunfeng_outbox_oldest_seconds gauge$/m);
    expect(metricValue(m, 'chunfeng_messages_in_total', { channel: 'telegram' })).toBe(4);
    expect(metricValue(m, 'chunfeng_messages_out_total', { channel: 'telegram' })).toBe(3);
    expect(metricValue(m, 'chunfeng_decisions_total', { channel: 'telegram', reason: 'answered' })).toBe(2);
    expect(metricValue(m, 'chunfeng_decisions_total', { channel: 'telegram', reason: 'uncertain' })).toBe(1);
    expect(metricValue(m, 'chunfeng_reply_seconds_count', { channel: 'telegram' })).toBe(3);
    expect(metricValue(m, 'chunfeng_reply_seconds_bucket', { channel: 'telegram', le: '+Inf' })).toBe(3);
    expect(metricValue(m, 'chunfeng_reply_seconds_sum', { channel: 'telegram' })).toBeGreaterThan(0);
    expect(m).toMatch(/^# TYPE chunfeng_reply_seconds histogram$/m);
  });

  it('removes U+0000 from a message and a name, answers it, and stores the same text as on any database', async () => {
    const update = u.privateText(`个体户注销\u0000要办什么手续`, { ...LI, first_name: '李\u0000' });
    const res = await post(update);
    expect(res.statusCode).toBe(200);
    expect(await sends(1)).toHaveLength(1);
    expect(api.sent[0]!.text).toContain(titleOf(PRIVATE_Q));
    const chat = await storeChatId(t.store, 'telegram', LI.id, 'private');
    const stored = (await t.store.messages.recent(chat, 10)).filter((m) => m.direction === 'in');
    expect(stored.map((m) => m.text)).toEqual([PRIVATE_Q]);
    // Telegram's retry of the same update is a duplicate, not a second failure.
    expect((await post(update)).statusCode).toBe(200);
    await settle();
    expect(api.sent).toHaveLength(1);
  });

  it('stores every message in and out, the inbound ones with their decision', async () => {
    const question = u.privateText(PRIVATE_Q);
    await post(question);
    await post(u.groupText('收到'));
    await sends(1);
    const store = t.store;

    const privateChat = await storeChatId(store, 'telegram', ZHANG.id, 'private');
    const log = await store.messages.recent(privateChat, 10);
    expect(log.map((m) => m.direction)).toEqual(['in', 'out']);
    const answer = knowledgeIndex().ask(PRIVATE_Q);
    expect(log[0]).toMatchObject({ channel: 'telegram', text: PRIVATE_Q, channelMessageId: String(question.message.message_id) });
    expect(log[0]!.decision).toMatchObject({ answered: true, entryId: answer.id, reason: 'answered' });
    expect(log[0]!.userId).not.toBeNull();
    expect(log[1]).toMatchObject({ direction: 'out', text: api.sent[0]!.text, userId: null, decision: null });

    // Chatter is kept too, without a decision and without a reply.
    const group = await storeChatId(store, 'telegram', GROUP.id, 'group');
    const groupLog = await store.messages.recent(group, 10);
    expect(groupLog).toHaveLength(1);
    expect(groupLog[0]).toMatchObject({ direction: 'in', text: '收到', decision: null });
  });
});

describeEachDatabase('Telegram webhook start-up', (db) => {
  let api: FakeTelegramApi;
  let database: TestDatabase;
  const apps: FastifyInstance[] = [];

  beforeEach(async () => {
    api = await FakeTelegramApi.start();
    database = await db.create();
  });
  afterEach(async () => {
    await Promise.all(apps.splice(0).map((a) => a.close()));
    await api.close();
    await database.cleanup();
  });

  it('answers 503 until the adapter knows the bot (getMe), so Telegram retries instead of losing the update', async () => {
    api.delay('getMe', 1_000);
    const { app } = await buildApp({ databaseUrl: database.url, telegram: { api, webhookSecret: SECRET } });
    apps.push(app);
    const u = new UpdateBuilder(api.bot);
    const early = u.privateText(PRIVATE_Q);
    const res = await postUpdate(app, SECRET, early);
    expect(res.statusCode).toBe(503);
    expect(res.json()).toMatchObject({ error: { code: 'CHUNFENG_NOT_READY' } });

    await waitForWebhook(app, SECRET);
    expect((await postUpdate(app, SECRET, early)).statusCode).toBe(200);
    await api.waitForCalls('sendMessage', 1);
    expect(api.sent[0]!.text).toContain(titleOf(PRIVATE_Q));
  });

  it('answers a wrong secret with 401 as soon as the headers arrive, while a right one waits for the body', async () => {
    const { app } = await buildApp({ databaseUrl: database.url, telegram: { api, webhookSecret: SECRET } });
    apps.push(app);
    await waitForWebhook(app, SECRET);
    await app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = app.server.address() as AddressInfo;
    const headersOnly = async (secret: string): Promise<string> => {
      const socket = connect(port, '127.0.0.1');
      let received = '';
      socket.on('data', (chunk: Buffer) => (received += chunk.toString('utf8')));
      socket.on('error', () => undefined);
      socket.write(`POST /telegram/webhook HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 100000\r\nX-Telegram-Bot-Api-Secret-Token: ${secret}\r\n\r\n{"update_id": 1, `);
      await new Promise((r) => setTimeout(r, 300));
      socket.destroy();
      return received;
    };
    const refused = await headersOnly('wrong-secret');
    expect(refused).toMatch(/^HTTP\/1\.1 401/);
    expect(refused).toContain('CHUNFENG_UNAUTHORIZED');
    expect(await headersOnly(SECRET)).toBe('');
  });

  it('has no webhook route in long-polling mode', async () => {
    const { app } = await buildApp({ databaseUrl: database.url, telegram: { api, webhookSecret: null } });
    apps.push(app);
    const res = await postUpdate(app, SECRET, new UpdateBuilder().privateText(PRIVATE_Q));
    expect(res.statusCode).toBe(404);
  });
});

describeEachDatabase('Telegram long polling', (db) => {
  let api: FakeTelegramApi;
  let database: TestDatabase;

  beforeEach(async () => {
    api = await FakeTelegramApi.start({ holdMs: 100 });
    database = await db.create();
  });
  afterEach(async () => {
    await api.close();
    await database.cleanup();
  });

  const settle = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

  it('fetches queued updates from getUpdates, replies, and stops polling on app.close()', async () => {
    const { app, errors } = await buildApp({ databaseUrl: database.url, telegram: { api } });
    const u = new UpdateBuilder(api.bot);
    await api.waitForCalls('getUpdates');
    expect(api.callsOf('getMe')).toHaveLength(1);
    expect(api.callsOf('deleteWebhook')).toHaveLength(1);

    const first = u.privateText(PRIVATE_Q);
    const chatter = u.groupText('收到');
    const second = u.groupText(GROUP_Q, { mention: true, from: LI });
    api.queueUpdates(first, chatter, second);
    await api.waitForCalls('sendMessage', 2);
    expect(api.sent[0]).toMatchObject({ chat_id: String(ZHANG.id) });
    expect(String(api.sent[0]!.text)).toContain(titleOf(PRIVATE_Q));
    expect(api.sent[1]).toMatchObject({ chat_id: String(GROUP.id), reply_parameters: { message_id: second.message.message_id } });
    expect(String(api.sent[1]!.text)).toContain(titleOf(GROUP_Q));

    // The next poll confirms the batch.
    await api.waitUntil(() => api.callsOf('getUpdates').some((c) => Number(c.params.offset) === second.update_id + 1), 5_000, 'offset confirmation');
    expect(api.pendingUpdates).toBe(0);

    await app.close();
    const polls = api.callsOf('getUpdates').length;
    await settle(400);
    expect(api.callsOf('getUpdates')).toHaveLength(polls);
    // An update that arrives after close is left for the next start.
    api.queueUpdates(u.privateText(GROUP_Q));
    await settle(200);
    expect(api.sent).toHaveLength(2);
    expect(api.pendingUpdates).toBe(1);
    expect(errors()).toEqual([]);
  });

  it('stops polling when closed while still starting up', async () => {
    api.delay('deleteWebhook', 200);
    const { app, errors } = await buildApp({ databaseUrl: database.url, telegram: { api } });
    await api.waitForCalls('deleteWebhook');
    await app.close();
    // telegraf begins polling once deleteWebhook returns, and stop() can abort it only then: at
    // most that one long poll was sent, and it was aborted before close resolved.
    const polls = api.callsOf('getUpdates').filter((c) => c.params.timeout !== undefined).length;
    expect(polls).toBeLessThanOrEqual(1);
    await settle(600);
    expect(api.callsOf('getUpdates').filter((c) => c.params.timeout !== undefined)).toHaveLength(polls);
    expect(errors()).toEqual([]);
  });

  it('stops polling when closed before the bot is known', async () => {
    api.delay('getMe', 200);
    const { app, errors } = await buildApp({ databaseUrl: database.url, telegram: { api } });
    await api.waitForCalls('getMe');
    await app.close();
    await settle(600);
    expect(api.callsOf('deleteWebhook')).toHaveLength(0);
    expect(api.callsOf('getUpdates')).toHaveLength(0);
    expect(errors()).toEqual([]);
  });

  it('waits for an update being handled before close resolves', async () => {
    const { app } = await buildApp({ databaseUrl: database.url, telegram: { api } });
    await api.waitForCalls('getUpdates');
    api.delay('sendMessage', 300);
    api.queueUpdates(new UpdateBuilder(api.bot).privateText(PRIVATE_Q));
    await api.waitForCalls('sendMessage');
    const closing = performance.now();
    await app.close();
    // The reply was sent (its call answered) and recorded before the store closed.
    expect(performance.now() - closing).toBeGreaterThanOrEqual(200);
    expect(api.delivered).toHaveLength(1);
  });
});

describeEachDatabase('Telegram webhook registration', (db) => {
  let api: FakeTelegramApi;
  let database: TestDatabase;

  beforeEach(async () => {
    api = await FakeTelegramApi.start();
    database = await db.create();
  });
  afterEach(async () => {
    await api.close();
    await database.cleanup();
  });

  it('calls setWebhook at start with the address, the secret and the update types it handles', async () => {
    const { app } = await buildApp({ databaseUrl: database.url, telegram: { api, webhookSecret: SECRET }, env: { TELEGRAM_WEBHOOK_URL: 'https://chunfeng.example.gov.cn/telegram/webhook' } });
    try {
      await waitForWebhook(app, SECRET);
      const [call] = api.callsOf('setWebhook');
      expect(call?.params).toMatchObject({
        url: 'https://chunfeng.example.gov.cn/telegram/webhook',
        secret_token: SECRET,
        allowed_updates: ['message', 'edited_message', 'callback_query', 'my_chat_member'],
      });
      expect(api.callsOf('deleteWebhook')).toHaveLength(0);
      expect(api.callsOf('getUpdates')).toHaveLength(0);
    } finally {
      await app.close();
    }
  });

  it('registers nothing without TELEGRAM_WEBHOOK_URL, and removes any webhook before long polling', async () => {
    const hooked = await buildApp({ databaseUrl: database.url, telegram: { api, webhookSecret: SECRET } });
    await waitForWebhook(hooked.app, SECRET);
    await hooked.app.close();
    expect(api.callsOf('setWebhook')).toHaveLength(0);

    const polling = await buildApp({ databaseUrl: database.url, telegram: { api } });
    try {
      await api.waitForCalls('getUpdates');
      expect(api.callsOf('deleteWebhook')).toHaveLength(1);
      expect(api.callsOf('setWebhook')).toHaveLength(0);
      expect(api.callsOf('getUpdates').at(-1)?.params.allowed_updates).toEqual(['message', 'edited_message', 'callback_query', 'my_chat_member']);
    } finally {
      await polling.app.close();
    }
  });
});

describe('Telegram: the bot token stays out of logs and errors', () => {
  let api: FakeTelegramApi;
  let database: TestDatabase;
  /** The token's secret part: the bot id before the colon is public. */
  const secretOf = (token: string): string => token.slice(token.indexOf(':') + 1);

  beforeEach(async () => {
    api = await FakeTelegramApi.start();
    database = await DATABASES[0]!.create();
  });
  afterEach(async () => {
    await api.close();
    await database.cleanup();
  });

  it('when the Bot API answers getMe and sendMessage with an HTML page, on every retry', async () => {
    api.servePage('getMe', 200, 2);
    const t = await buildApp({
      databaseUrl: database.url, telegram: { api, webhookSecret: SECRET }, env: { LOG_LEVEL: 'trace' }, startRetry: { firstMs: 20, maxMs: 40 },
    });
    try {
      await waitForWebhook(t.app, SECRET);
      expect(api.callsOf('getMe')).toHaveLength(3);
      api.servePage('sendMessage', 403);
      expect((await postUpdate(t.app, SECRET, new UpdateBuilder(api.bot).privateText(PRIVATE_Q))).statusCode).toBe(200);

      const failures = t.logs.filter((l) => l.msg === '渠道启动失败，稍后重试');
      expect(failures).toHaveLength(2);
      const err = failures[0]!.err as { message: string; stack: string };
      expect(err.message).toContain('invalid json');
      expect(err.message).toContain(`bot${api.token.split(':')[0]}:[已隐去]`);
      await vi.waitFor(() => expect(t.logs.some((l) => String(l.msg).startsWith('发送失败'))).toBe(true), { timeout: 5_000 });
      const everything = JSON.stringify(t.logs);
      expect(everything).not.toContain(secretOf(api.token));
    } finally {
      await t.app.close();
    }
  });

  it('in the error a failed send rejects with, message and stack', async () => {
    const adapter = new TelegramAdapter({ token: api.token, apiRoot: api.apiRoot, webhookSecret: SECRET, log: silentLog() });
    api.servePage('sendMessage', 404);
    const err = await adapter.send({ channel: 'telegram', chatId: '1001', text: '测试' }).then(() => null, (e: unknown) => e as ChannelError);
    expect(err).toMatchObject({ name: 'ChannelError', kind: 'network' });
    expect(`${err?.message}\n${err?.stack}`).not.toContain(secretOf(api.token));
  });
});

describe('Telegram: every Bot API call has a time limit', () => {
  let api: FakeTelegramApi;
  beforeAll(async () => {
    api = await FakeTelegramApi.start();
  });
  afterAll(async () => {
    await api.close();
  });

  it('a send that gets no answer fails as a network failure after the limit, not after telegraf\'s 500 s', async () => {
    const adapter = new TelegramAdapter({ token: api.token, apiRoot: api.apiRoot, webhookSecret: SECRET, log: silentLog(), callTimeoutMs: 200 });
    api.delay('sendMessage', 3_000);
    const started = performance.now();
    const err = await adapter.send({ channel: 'telegram', chatId: '1001', text: '测试' }).then(() => null, (e: unknown) => e as ChannelError);
    const waited = performance.now() - started;
    api.delay('sendMessage', 0);
    expect(err).toMatchObject({ name: 'ChannelError', kind: 'network' });
    expect(err?.message).toContain('sendMessage 在 0.2 秒内没有回应');
    expect(waited).toBeGreaterThanOrEqual(150);
    expect(waited).toBeLessThan(2_500);
  });

  it('a start whose getMe gets no answer fails, so the channel is started again later', async () => {
    const adapter = new TelegramAdapter({ token: api.token, apiRoot: api.apiRoot, webhookSecret: SECRET, log: silentLog(), callTimeoutMs: 200 });
    api.delay('getMe', 3_000);
    await expect(adapter.start(async () => undefined)).rejects.toThrow('getMe 在 0.2 秒内没有回应');
    api.delay('getMe', 0);
    await adapter.start(async () => undefined);
    await adapter.stop();
  });
});
