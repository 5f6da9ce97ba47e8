import type { FastifyInstance } from 'fastify';
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { formatMediaOnly } from '../../src/core/conversation/format.js';
import { FakeTelegramApi } from '../fakes/telegram-api.js';
import { SHAPE_QUESTIONS, updateShapes, type UpdateShape } from '../fakes/telegram-updates.js';
import { buildApp, describeEachDatabase, knowledgeIndex, postUpdate, removeTempDirs, webhookApps, type TestApp, type TestDatabase } from './helpers.js';

/**
 * Every update shape of test/fakes/telegram-updates.ts through the real app, by webhook and by long
 * polling, on both databases: nothing fails, captions are answered like text, media without words
 * get the one line in a private chat and silence in a group, everything else is acknowledged quietly.
 */

const SECRET = 'shapes-webhook-secret';
/** Many messages from one user in one chat: the flood rule and budgets must not be what silences them. */
const ROOMY = { flood: { limit: 1000, windowMs: 60_000 }, budgets: { telegram: { perChat: { limit: 1000, windowMs: 60_000 }, perAccount: { limit: 1000, windowMs: 1_000 } } } };
const MEDIA_LINE = formatMediaOnly(null);

afterAll(() => removeTempDirs());

/** The title line of the answer to `q`. */
function titleOf(q: string): string {
  const a = knowledgeIndex().ask(q);
  if (!a.answered || !a.title) throw new Error(`the knowledge does not answer ${q}`);
  return `【${a.title}】`;
}

/** Checks what the bot sent for one shape. */
function expectReplies(shape: UpdateShape, sent: Record<string, unknown>[]): void {
  const what = shape.name;
  switch (shape.expect.kind) {
    case 'silent':
      expect(sent, what).toEqual([]);
      return;
    case 'media':
      expect(sent.map((s) => s.text), what).toEqual([MEDIA_LINE]);
      expect(sent[0]!.chat_id, what).toBe(String(shape.chatId));
      return;
    case 'answer':
      expect(sent, what).toHaveLength(1);
      expect(String(sent[0]!.text), what).toContain(titleOf(shape.expect.question));
      expect(sent[0]!.chat_id, what).toBe(String(shape.chatId));
      if (shape.chatId < 0) expect(sent[0]!.reply_parameters, what).toMatchObject({ message_id: shape.messageId });
  }
}

describe('the update shapes', () => {
  it('cover the kinds the review tried, and their questions are answered by the real knowledge', () => {
    const shapes = updateShapes();
    expect(shapes.length).toBeGreaterThanOrEqual(26);
    const keys = new Set(shapes.flatMap((s) => Object.keys(s.update)));
    for (const key of ['message', 'edited_message', 'channel_post', 'inline_query', 'shipping_query', 'pre_checkout_query', 'my_chat_member', 'callback_query']) expect(keys).toContain(key);
    expect(shapes.filter((s) => s.expect.kind === 'answer').length).toBeGreaterThanOrEqual(6);
    expect(shapes.filter((s) => s.expect.kind === 'media').length).toBeGreaterThanOrEqual(6);
    for (const q of Object.values(SHAPE_QUESTIONS)) titleOf(q);
    expect(new Set(shapes.map((s) => s.update.update_id)).size).toBe(shapes.length);
  });
});

describeEachDatabase('Telegram update shapes by webhook', (db) => {
  const suite = webhookApps(db, SECRET, ROOMY);
  let api: FakeTelegramApi;
  let t: TestApp;
  let app: FastifyInstance;

  beforeEach(() => {
    ({ api, t } = suite);
    app = t.app;
  });

  it('acknowledges every shape with 200 and replies as each expects', async () => {
    const logged = t.logs.length;
    for (const shape of updateShapes(api.bot)) {
      const before = api.sent.length;
      const res = await postUpdate(app, SECRET, shape.update);
      expect(res.statusCode, `${shape.name}: ${res.body}`).toBe(200);
      // The dispatcher sends after the intake has committed: wait for the reply, or a moment for silence.
      if (shape.expect.kind === 'silent') await new Promise((r) => setTimeout(r, 60));
      else await api.waitUntil(() => api.sent.length > before, 5_000, `the reply to ${shape.name}`);
      expectReplies(shape, api.sent.slice(before));
    }
    expect(t.logs.slice(logged).filter((l) => l.level >= 50)).toEqual([]);
  });

  it('stores a caption as the message text and a media message without one as empty text', async () => {
    const shapes = updateShapes(api.bot);
    const captioned = shapes.find((s) => s.name === 'photo with a Chinese caption in a private chat')!;
    const bare = shapes.find((s) => s.name === 'photo without a caption in a private chat')!;
    for (const shape of [captioned, bare]) await postUpdate(app, SECRET, shape.update);
    const chatIdForWait = await t.store.identities.upsertChat({ channel: 'telegram', channelChatId: String(captioned.chatId), kind: 'private' });
    await vi.waitFor(async () => expect((await t.store.messages.recent(chatIdForWait, 10)).filter((m) => m.direction === 'out')).toHaveLength(2), { timeout: 5_000 });
    const chatId = await t.store.identities.upsertChat({ channel: 'telegram', channelChatId: String(captioned.chatId), kind: 'private' });
    const stored = await t.store.messages.recent(chatId, 10);
    const inbound = stored.filter((m) => m.direction === 'in');
    expect(inbound.map((m) => [m.channelMessageId, m.text])).toEqual([[String(captioned.messageId), SHAPE_QUESTIONS.invoice], [String(bare.messageId), '']]);
    expect(inbound[0]!.decision).toMatchObject({ answered: true });
    expect(inbound[1]!.decision).toBeNull();
    const outbound = stored.filter((m) => m.direction === 'out').map((m) => m.text);
    expect(outbound).toHaveLength(2);
    expect(outbound).toContain(MEDIA_LINE);
  });
});

describeEachDatabase('Telegram update shapes by long polling', (db) => {
  let api: FakeTelegramApi;
  let database: TestDatabase;

  beforeEach(async () => {
    api = await FakeTelegramApi.start({ holdMs: 50 });
    database = await db.create();
  });
  afterEach(async () => {
    await api.close();
    await database.cleanup();
  });

  it('handles every shape in one batch of getUpdates, keeps polling and answers what comes after', async () => {
    const t = await buildApp({ databaseUrl: database.url, telegram: { api }, ...ROOMY });
    try {
      await api.waitForCalls('getUpdates');
      const shapes = updateShapes(api.bot);
      const expected = shapes.filter((s) => s.expect.kind !== 'silent').length;
      api.queueUpdates(...shapes.map((s) => s.update));
      await api.waitForCalls('sendMessage', expected, 10_000);
      for (const shape of shapes) {
        const to = api.sent.filter((s) => s.chat_id === String(shape.chatId) && (shape.chatId > 0 || (s.reply_parameters as { message_id?: number } | undefined)?.message_id === shape.messageId));
        if (shape.expect.kind === 'answer' && shape.chatId < 0) expectReplies(shape, to);
      }
      expect(api.sent.filter((s) => s.text === MEDIA_LINE)).toHaveLength(shapes.filter((s) => s.expect.kind === 'media').length);

      const last = Number(shapes.at(-1)!.update.update_id);
      api.queueUpdates({ update_id: last + 1, message: { message_id: 1, date: Math.floor(Date.now() / 1000), chat: { id: 77, type: 'private' }, from: { id: 77, is_bot: false, first_name: '赵' }, text: SHAPE_QUESTIONS.deregister } });
      await api.waitForCalls('sendMessage', expected + 1, 10_000);
      expect(String(api.sent.at(-1)!.text)).toContain(titleOf(SHAPE_QUESTIONS.deregister));
      expect(api.sent).toHaveLength(expected + 1);
      expect(t.errors()).toEqual([]);
    } finally {
      await t.app.close();
    }
  });
});
