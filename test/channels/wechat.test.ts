import { join } from 'node:path';
import { Writable } from 'node:stream';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ScanStatus, types } from 'wechaty';
import { PuppetMock, mock } from 'wechaty-puppet-mock';
import app from '../../src/app.js';
import { WechatAdapter, sendFailureKind } from '../../src/channels/wechat.js';
import { loadConfig } from '../../src/config.js';
import { formatMediaOnly } from '../../src/core/conversation/format.js';
import type { InboundMessage } from '../../src/core/conversation/types.js';
import { openIndex } from '../../src/knowledge/open.js';
import type { StoredMessage } from '../../src/store/index.js';
import { REAL_KNOWLEDGE, removeDir, seededCacheDir, tempDir } from '../helpers/knowledge.js';
import { observe, type Seen } from './wechat-mock.js';

/**
 * The WeChat adapter through the real Wechaty and the real app (gateway, dialog, knowledge index,
 * SQLite store), with Wechaty's PuppetMock standing in for WeChat: users speak on the mock side and
 * the test reads what the room or the private chat shows.
 */

const BOT_NAME = '春风税务助手';
const SEP = '\u2005';
const WAIT = { timeout: 10_000, interval: 10 };


let dir: string;
let root: FastifyInstance;
/** The context the app plugin runs in: its decorations (store, knowledge) are encapsulated there. */
let fastify: FastifyInstance;
let adapter: WechatAdapter;
let puppet: PuppetMock;
let mocker: mock.Mocker;
let me: mock.ContactMock;
let alice: mock.ContactMock;
let bob: mock.ContactMock;
let room: mock.RoomMock;
const roomSeen: Seen[] = [];
/** What Alice's client shows: her private chat with the bot, and her own room messages too. */
const aliceSeen: Seen[] = [];
const logLines: Array<Record<string, unknown>> = [];
/** Every message the adapter handed to the gateway, and how many the gateway has finished. */
const delivered: InboundMessage[] = [];
let handled = 0;
let qrWhileWaiting: ReturnType<WechatAdapter['loginQr']> = null;

/** Resolves once the gateway has finished `count` more deliveries than `since` (replies sent, messages stored). */
async function handledAfter(since: number, count = 1): Promise<void> {
  await vi.waitFor(() => expect(handled).toBeGreaterThanOrEqual(since + count), WAIT);
}

/** A member says `text` in the room (mentioning `mentions`); returns the message's id once the gateway is done with it. */
async function inRoom(from: mock.ContactMock, text: string, mentions: mock.ContactMock[] = []): Promise<string> {
  const before = handled;
  const at = roomSeen.length;
  from.say(text, mentions).to(room);
  const sent = roomSeen.slice(at).find((m) => m.talkerId === from.id && m.text === text);
  if (!sent) throw new Error(`the mock room did not show "${text}"`);
  await handledAfter(before);
  return sent.id;
}

/** What the bot said in the room after the message `id`. */
function botRepliesAfter(list: readonly Seen[], id: string): Seen[] {
  const at = list.findIndex((m) => m.id === id);
  expect(at).toBeGreaterThanOrEqual(0);
  return list.slice(at + 1).filter((m) => m.talkerId === me.id);
}

/**
 * What the bot said after the message `id`, once it has said `count` things: the dispatcher sends
 * after the message is stored, one WeChat message at a time with random gaps (the account's budget).
 */
async function repliesAfter(list: readonly Seen[], id: string, count = 1): Promise<Seen[]> {
  await vi.waitFor(() => expect(botRepliesAfter(list, id).length).toBeGreaterThanOrEqual(count), WAIT);
  return botRepliesAfter(list, id);
}

async function storedInbound(channelChatId: string, kind: 'private' | 'group'): Promise<StoredMessage[]> {
  const chatId = await fastify.store.identities.upsertChat({ channel: 'wechat', channelChatId, kind });
  return (await fastify.store.messages.recent(chatId, 100)).filter((m) => m.direction === 'in');
}

function countMentions(text: string, name: string): number {
  return text.split(`@${name}`).length - 1;
}

beforeAll(async () => {
  dir = tempDir('chunfeng-wechat-');
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n')) if (line.trim()) logLines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  const logger = pino({ level: 'info' }, sink);
  const config = loadConfig({
    DATABASE_URL: `sqlite:${join(dir, 'chunfeng.db')}`,
    DATA_DIR: dir,
    KNOWLEDGE_DIR: REAL_KNOWLEDGE,
    BOT_NAMES: '春风',
    LOG_LEVEL: 'info',
    // Set, so the app does not generate one and print it.
    ADMIN_TOKEN: 'wechat-test-admin-token',
  });
  const { index } = openIndex({ knowledgeDir: REAL_KNOWLEDGE, policyDirs: [], cacheDir: seededCacheDir(join(dir, 'cache')) });

  mocker = new mock.Mocker();
  puppet = new PuppetMock({ mocker });
  me = mocker.createContact({ name: BOT_NAME });
  alice = mocker.createContact({ name: '张会计' });
  bob = mocker.createContact({ name: '李老板' });
  room = mocker.createRoom({ topic: '城东个体户办税群', memberIdList: [me.id, alice.id, bob.id] });
  observe(room, roomSeen);
  observe(alice, aliceSeen);

  adapter = new WechatAdapter({
    puppet: 'wechaty-puppet-mock',
    token: null,
    botNames: config.botNames,
    log: logger.child({ channel: 'wechat' }),
    puppetInstance: puppet,
    restartBackoff: { firstMs: 20, maxMs: 100 },
  });
  // Observe what reaches the gateway and when it is done, without changing it.
  const start = adapter.start.bind(adapter);
  let markStarted: () => void = () => undefined;
  const started = new Promise<void>((resolve) => (markStarted = resolve));
  adapter.start = async (handler) => {
    await start(async (msg) => {
      delivered.push(msg);
      try {
        await handler(msg);
      } finally {
        handled++;
      }
    });
    markStarted();
  };

  root = Fastify({ loggerInstance: logger as FastifyBaseLogger });
  // What `root.register(app, ...)` does (as in server.ts), keeping hold of the app's context.
  await root.register(async (child) => {
    fastify = child;
    await app(child, { config, index, adapters: [adapter] });
  });
  await root.ready();
  await fastify.knowledge.loaded;
  await started;

  mocker.scan('https://login.weixin.qq.com/l/mock-qr', ScanStatus.Waiting);
  qrWhileWaiting = adapter.loginQr();
  mocker.login(me);
  // PuppetMock never says it is ready; Wechaty's `ready()` (and payload loading) waits for it.
  puppet.emit('ready', { data: 'mock' });
  await vi.waitFor(() => expect(adapter.botNames()).toContain(BOT_NAME), WAIT);
});

afterAll(async () => {
  await root?.close();
  if (dir) removeDir(dir);
});

describe('WeChat through Wechaty and PuppetMock', () => {
  it('shows the login QR code until the account logs in, and answers to its name and BOT_NAMES', () => {
    expect(qrWhileWaiting).toEqual({ url: 'https://login.weixin.qq.com/l/mock-qr', status: 'waiting' });
    expect(adapter.loginQr()).toBeNull();
    expect(adapter.botNames()).toEqual([BOT_NAME, '春风']);
    const scan = logLines.find((l) => l.msg === '微信等待扫码登录');
    expect(scan).toMatchObject({ level: 30, qrcode: 'https://login.weixin.qq.com/l/mock-qr', status: 'waiting' });
    expect(logLines.find((l) => l.msg === '微信已登录')).toMatchObject({ level: 30, account: BOT_NAME });
  });

  it('answers a room question that @mentions the bot, @mentioning the asker exactly once', async () => {
    const id = await inRoom(alice, `@${BOT_NAME}${SEP}个体户注销要办什么手续`, [me]);
    const inbound = delivered.find((m) => m.messageId === id);
    expect(inbound).toMatchObject({ channel: 'wechat', chatId: room.id, chatKind: 'group', userId: alice.id, userName: '张会计', mentionsBot: true, replyToBot: false });

    const replies = await repliesAfter(roomSeen, id);
    expect(replies).toHaveLength(1);
    const [reply] = replies;
    expect(reply?.text.startsWith(`@张会计${SEP}【`)).toBe(true);
    expect(reply?.text).toContain('【个体工商户注销需要办理哪些涉税手续】');
    expect(countMentions(reply?.text ?? '', '张会计')).toBe(1);
  });

  it('stays silent on group chatter', async () => {
    const first = await inRoom(bob, '收到');
    const second = await inRoom(alice, '今天中午吃什么');
    expect(botRepliesAfter(roomSeen, first)).toEqual([]);
    expect(botRepliesAfter(roomSeen, second)).toEqual([]);
    expect(delivered.find((m) => m.messageId === second)).toMatchObject({ chatKind: 'group', mentionsBot: false });
  });

  it('answers a question that opens with 请问, without a mention', async () => {
    const id = await inRoom(bob, '请问发票丢了怎么办');
    const replies = await repliesAfter(roomSeen, id);
    expect(replies).toHaveLength(1);
    expect(replies[0]?.text.startsWith(`@李老板${SEP}`)).toBe(true);
    expect(replies[0]?.text).toContain('【发票丢失了怎么办】');
    expect(countMentions(replies[0]?.text ?? '', '李老板')).toBe(1);
  });

  it('answers a mention of a name from BOT_NAMES that the puppet did not mark as a mention', async () => {
    const id = await inRoom(alice, `@春风${SEP}发票丢了怎么办`);
    expect(delivered.find((m) => m.messageId === id)).toMatchObject({ mentionsBot: false });
    const replies = await repliesAfter(roomSeen, id);
    expect(replies).toHaveLength(1);
    expect(replies[0]?.text).toContain('【发票丢失了怎么办】');
  });

  it('answers a private message without an @mention', async () => {
    const before = handled;
    const at = aliceSeen.length;
    alice.say('个体户注销要交什么资料').to(me);
    await handledAfter(before);
    const asked = aliceSeen.slice(at).find((m) => m.talkerId === alice.id && m.roomId === null);
    expect(asked).toBeDefined();
    expect(delivered.find((m) => m.messageId === asked?.id)).toMatchObject({ chatId: alice.id, chatKind: 'private', userName: '张会计', mentionsBot: false });
    const replies = await repliesAfter(aliceSeen, asked?.id ?? '');
    expect(replies).toHaveLength(1);
    expect(replies[0]?.text.startsWith('【个体工商户注销需要办理哪些涉税手续】')).toBe(true);
    expect(replies[0]?.text).not.toContain('@');
  });

  it('answers a message Wechaty delivers twice only once', async () => {
    const id = await inRoom(alice, `@${BOT_NAME}${SEP}发票丢了怎么办`, [me]);
    const before = handled;
    puppet.emit('message', { messageId: id });
    await handledAfter(before);
    expect(delivered.filter((m) => m.messageId === id)).toHaveLength(2);
    expect(await repliesAfter(roomSeen, id)).toHaveLength(1);
    await new Promise((r) => setTimeout(r, 1_600));
    expect(botRepliesAfter(roomSeen, id)).toHaveLength(1);
    expect((await storedInbound(room.id, 'group')).filter((m) => m.channelMessageId === id)).toHaveLength(1);
  });

  it('ignores its own messages: its replies and what the account types on the phone', async () => {
    const at = roomSeen.length;
    me.say(`大家好，有问题请@${BOT_NAME}`).to(room);
    me.say('请问发票丢了怎么办').to(room);
    const own = roomSeen.slice(at);
    const marker = await inRoom(bob, '好的');
    expect(delivered.some((m) => m.userId === me.id)).toBe(false);
    // After its own two messages the bot said nothing more: not an answer to its own question, nothing to "好的".
    expect(botRepliesAfter(roomSeen, own[0]?.id ?? '').map((m) => m.id)).toEqual([own[1]?.id]);
    expect(botRepliesAfter(roomSeen, marker)).toEqual([]);
  });

  it('stores every inbound message once, and none of its own', async () => {
    expect(logLines.filter((l) => (l.level as number) >= 40)).toEqual([]);
    const groupIds = roomSeen.filter((m) => m.talkerId !== me.id).map((m) => m.id);
    const group = await storedInbound(room.id, 'group');
    expect(group.map((m) => m.channelMessageId).sort()).toEqual([...groupIds].sort());
    expect(group.every((m) => m.userId !== null)).toBe(true);
    const privateIds = aliceSeen.filter((m) => m.talkerId === alice.id && m.roomId === null).map((m) => m.id);
    expect(privateIds).toHaveLength(1);
    const priv = await storedInbound(alice.id, 'private');
    expect(priv.map((m) => m.channelMessageId)).toEqual(privateIds);
  });

  it('reports a room it cannot reach as refused', async () => {
    await expect(adapter.send({ channel: 'wechat', chatId: 'gone@chatroom', text: '通知' })).rejects.toMatchObject({ name: 'ChannelError', channel: 'wechat', kind: 'refused' });
  });

  it('keeps running after an error and restarts, with a pause, after a logout', async () => {
    puppet.emit('error', { data: 'mock failure' });
    expect(logLines.some((l) => l.msg === '微信出错' && l.level === 50)).toBe(true);
    // An error while logged in is only logged.
    expect(logLines.some((l) => l.msg === '微信将重新启动')).toBe(false);

    await puppet.logout('test');
    await expect(adapter.send({ channel: 'wechat', chatId: room.id, text: '通知' })).rejects.toMatchObject({ name: 'ChannelError', kind: 'network' });
    await vi.waitFor(() => expect(logLines.some((l) => l.msg === '微信已重新启动')).toBe(true), WAIT);
    expect(logLines.find((l) => l.msg === '微信将重新启动')).toMatchObject({ reason: 'logout', delayMs: 20 });
    expect(adapter.botNames()).toEqual(['春风']);

    mocker.login(me);
    puppet.emit('ready', { data: 'mock' });
    await vi.waitFor(() => expect(adapter.botNames()).toContain(BOT_NAME), WAIT);
    const id = await inRoom(bob, `@${BOT_NAME}${SEP}个体户注销要办什么手续`, [me]);
    expect(await repliesAfter(roomSeen, id)).toHaveLength(1);
  });
});

describe('sendFailureKind', () => {
  it('tells a failed connection from a refusal', () => {
    expect(sendFailureKind(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }))).toBe('network');
    expect(sendFailureKind(new Error('wrapped', { cause: Object.assign(new Error('x'), { code: 14 }) }))).toBe('network');
    expect(sendFailureKind(new Error('not a member of the room'))).toBe('refused');
    expect(sendFailureKind('odd')).toBe('refused');
  });
});

describe('WeChat pictures, voice, files and stickers', () => {
  const bobSeen: Seen[] = [];
  let n = 0;
  beforeAll(() => observe(bob, bobSeen));

  /** Bob sends the bot (or the room) a message of `type` as the puppet delivers it; resolves once the gateway is done. */
  /** Bob sends a media message; resolves with the bot's replies once `expected` have come (the dispatcher sends after the intake). */
  async function fromBob(fields: { type: types.Message; text?: string; filename?: string }, inRoom = false, expected = inRoom ? 0 : 1): Promise<{ id: string; replies: Seen[] }> {
    const before = handled;
    const list = inRoom ? roomSeen : bobSeen;
    const at = list.length;
    const id = `media-${++n}`;
    const where = inRoom ? { roomId: room.id, mentionIdList: [] } : { listenerId: me.id };
    mocker.MessageMock.create({ id, talkerId: bob.id, timestamp: Date.now(), ...where, ...fields } as unknown as Parameters<typeof mocker.MessageMock.create>[0]);
    puppet.emit('message', { messageId: id });
    await handledAfter(before);
    const replies = (): Seen[] => list.slice(at).filter((m) => m.talkerId === me.id);
    if (expected > 0) await vi.waitFor(() => expect(replies().length).toBeGreaterThanOrEqual(expected), WAIT);
    else await new Promise((r) => setTimeout(r, 300));
    return { id, replies: replies() };
  }

  it('answers a picture in a private chat with the one line on text questions', async () => {
    const { id, replies } = await fromBob({ type: types.Message.Image });
    expect(delivered.find((m) => m.messageId === id)).toMatchObject({ chatKind: 'private', text: '', media: 'image' });
    expect(replies.map((r) => r.text)).toEqual([formatMediaOnly(null)]);
  });

  it.each([
    ['a voice message', types.Message.Audio, 'voice'],
    ['a sticker', types.Message.Emoticon, 'sticker'],
    ['a file named like a question', types.Message.Attachment, 'file'],
  ] as const)('answers %s the same way, never reading a file name or XML as a question', async (_what, type, media) => {
    const { id, replies } = await fromBob({ type, text: type === types.Message.Attachment ? '发票丢了怎么办.pdf' : '<msg><emoji md5="x" /></msg>', filename: '发票丢了怎么办.pdf' });
    expect(delivered.find((m) => m.messageId === id)).toMatchObject({ text: '', media });
    expect(replies.map((r) => r.text)).toEqual([formatMediaOnly(null)]);
  });

  it('answers the words sent with a picture like a text question', async () => {
    const { replies } = await fromBob({ type: types.Message.Image, text: '个体户注销要办什么手续' });
    expect(replies).toHaveLength(1);
    expect(replies[0]?.text).toContain('【个体工商户注销需要办理哪些涉税手续】');
  });

  it('says nothing to media without words in a room, and nothing to a system note anywhere', async () => {
    expect((await fromBob({ type: types.Message.Image }, true)).replies).toEqual([]);
    expect((await fromBob({ type: types.Message.Audio }, true)).replies).toEqual([]);
    const before = handled;
    mocker.MessageMock.create({ id: 'system-1', talkerId: bob.id, listenerId: me.id, timestamp: Date.now(), type: types.Message.Recalled, text: '"李老板" 撤回了一条消息' } as unknown as Parameters<typeof mocker.MessageMock.create>[0]);
    puppet.emit('message', { messageId: 'system-1' });
    // A recalled message never reaches the gateway: a later message is the first handled.
    const { id } = await fromBob({ type: types.Message.Image });
    expect(handled).toBe(before + 1);
    expect(delivered.some((m) => m.messageId === 'system-1')).toBe(false);
    expect(delivered.at(-1)?.messageId).toBe(id);
  });
});
