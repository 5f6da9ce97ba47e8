import { pino } from 'pino';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { PuppetMock, mock } from 'wechaty-puppet-mock';
import { WechatAdapter } from '../../src/channels/wechat.js';
import { uscc } from '../helpers/taxpayers.js';
import { buildApp, describeEachDatabase, removeTempDirs, type TestApp, type TestDatabase } from './helpers.js';
import { observe, type Seen } from './wechat-mock.js';

/**
 * A notice's journey on WeChat through the real Wechaty, with PuppetMock standing in for WeChat and
 * the real app on both databases: staff import profiles bound to a WeChat contact, another contact and
 * a room, compose and send over HTTP; the messages arrive in the mock chats; the taxpayers answer
 * 已读 (and 已读 N with two notices open); the report counts each reading with its time; a reminder
 * round reaches only the chat that has not read.
 */

const ADMIN = 'wechat-notices-admin-token';
const BOT_NAME = '春风税务助手';
const WAIT = { timeout: 10_000, interval: 10 };
/** A Monday at 10:00 in Beijing: the notice job's clock when the notices are sent. */
const SENT_AT = new Date('2026-11-30T10:00:00+08:00');

afterAll(() => removeTempDirs());

describeEachDatabase('a notice on WeChat through Wechaty and PuppetMock', (db) => {
  let database: TestDatabase;
  let t: TestApp;
  let clock = SENT_AT;
  let mocker: mock.Mocker;
  let me: mock.ContactMock;
  let alice: mock.ContactMock;
  let bob: mock.ContactMock;
  let carol: mock.ContactMock;
  let room: mock.RoomMock;
  const aliceSeen: Seen[] = [];
  const bobSeen: Seen[] = [];
  const roomSeen: Seen[] = [];
  const ids: Record<'first' | 'second', string> = { first: '', second: '' };

  /** What the bot said in a private chat (`roomId` null) or a room, in order. */
  const fromBot = (seen: readonly Seen[], roomId: string | null = null): string[] => seen.filter((m) => m.talkerId === me.id && m.roomId === roomId).map((m) => m.text);

  /** Waits until the bot has said `count` things there, and returns them. */
  async function botSaid(seen: readonly Seen[], count: number, roomId: string | null = null): Promise<string[]> {
    await vi.waitFor(() => expect(fromBot(seen, roomId).length).toBeGreaterThanOrEqual(count), WAIT);
    return fromBot(seen, roomId);
  }

  const call = async (method: 'GET' | 'POST', url: string, payload?: unknown) =>
    t.app.inject({ method, url, payload: payload as object, headers: { authorization: `Bearer ${ADMIN}` } });

  /** Composes and sends a notice through the routes staff use, and waits until every recipient has it. */
  async function sendNotice(title: string, reminders: { afterHours: number }[] = []): Promise<string> {
    const made = await call('POST', '/api/notices', { title, text: '请对照本单位情况及时办理。', audience: {}, reminders });
    expect(made.statusCode, made.body).toBe(201);
    const id = made.json().id as string;
    expect((await call('POST', `/api/notices/${id}/send`)).statusCode).toBe(202);
    await vi.waitFor(async () => expect((await call('GET', `/api/notices/${id}/report`)).json()).toMatchObject({ state: 'queued', pending: 0, sent: 3 }), WAIT);
    return id;
  }

  beforeAll(async () => {
    database = await db.create();
    mocker = new mock.Mocker();
    const puppet = new PuppetMock({ mocker });
    me = mocker.createContact({ name: BOT_NAME });
    alice = mocker.createContact({ name: '张会计' });
    bob = mocker.createContact({ name: '李老板' });
    carol = mocker.createContact({ name: '王出纳' });
    room = mocker.createRoom({ topic: '城东个体户办税群', memberIdList: [me.id, carol.id] });
    observe(alice, aliceSeen);
    observe(bob, bobSeen);
    observe(room, roomSeen);

    const adapter = new WechatAdapter({
      puppet: 'wechaty-puppet-mock', token: null, botNames: [], puppetInstance: puppet, restartBackoff: { firstMs: 20, maxMs: 100 },
      log: pino({ level: 'silent' }),
    });
    const start = adapter.start.bind(adapter);
    let markStarted: () => void = () => undefined;
    const started = new Promise<void>((resolve) => (markStarted = resolve));
    adapter.start = async (handler) => {
      await start(handler);
      markStarted();
    };
    t = await buildApp({
      databaseUrl: database.url, adapters: [adapter], env: { ADMIN_TOKEN: ADMIN },
      // The job is run by hand (and by the send route), on a clock the test moves.
      noticeJob: { everyMs: 3_600_000, now: () => clock },
    });
    await started;
    mocker.login(me);
    // PuppetMock never says it is ready; Wechaty's `ready()` (and payload loading) waits for it.
    puppet.emit('ready', { data: 'mock' });
    await vi.waitFor(() => expect(adapter.botNames()).toContain(BOT_NAME), WAIT);

    const profile = (n: number, name: string, office: string, chatId: string) =>
      ({ taxpayerId: uscc(700 + n), name, taxpayerType: '小规模纳税人', industry: 'F', credit: 'B', office, chats: [{ channel: 'wechat', chatId }] });
    const imported = await call('POST', '/api/subscribers', [
      profile(1, '城东张记商行', '第一分局', alice.id), profile(2, '城西李记餐馆', '第二分局', bob.id), profile(3, '城东个体户协会', '第一分局', room.id),
    ]);
    expect(imported.json()).toMatchObject({ upserted: 3, errors: [] });
  });

  afterAll(async () => {
    await t?.app.close();
    await database?.cleanup();
  });

  it('delivers the notice to the contacts and into the room, numbered, with how to confirm', async () => {
    ids.first = await sendNotice('留抵退税申请提醒', [{ afterHours: 24 }]);
    for (const seen of [aliceSeen, bobSeen]) {
      const [message, ...more] = await botSaid(seen, 1);
      expect(more).toEqual([]);
      expect(message).toMatch(/^【通知 1】留抵退税申请提醒\n\n请对照本单位情况及时办理。\n\n/);
      expect(message).toContain('看完请回复“已读”确认（同时有几条通知时回复“已读 1”）。');
    }
    const [inRoom] = await botSaid(roomSeen, 1, room.id);
    // A notice in a room is said to the room, nobody @mentioned.
    expect(inRoom).toMatch(/^【通知 1】留抵退税申请提醒\n\n请对照本单位情况及时办理。/);
    expect(fromBot(aliceSeen)).toHaveLength(1);
  });

  it('takes 已读 in a private chat and the report counts it with its time', async () => {
    alice.say('已读').to(me);
    const [, answer] = await botSaid(aliceSeen, 2);
    const time = /^已确认阅读通知 1「留抵退税申请提醒」（(\d{4}-\d\d-\d\d \d\d:\d\d)），谢谢。$/.exec(answer ?? '')?.[1];
    expect(time, answer).toBeDefined();
    const report = (await call('GET', `/api/notices/${ids.first}/report`)).json();
    expect(report).toMatchObject({ targeted: 3, sent: 3, read: 1, readRate: 0.3333, byOffice: [{ office: '第一分局', targeted: 2, read: 1 }, { office: '第二分局', targeted: 1, read: 0 }] });
    const csv = (await call('GET', `/api/notices/${ids.first}/report.csv`)).body;
    const row = csv.split('\r\n').find((line) => line.includes(alice.id));
    expect(row).toMatch(new RegExp(`,微信,${alice.id},,已发送,\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d,${time},回复,0,`));
  });

  it('takes 已读 said in the room, as the notice there asks', async () => {
    carol.say('已读').to(room);
    const [, answer] = await botSaid(roomSeen, 2, room.id);
    expect(answer).toMatch(/已确认阅读通知 1「留抵退税申请提醒」（\d{4}-\d\d-\d\d \d\d:\d\d），谢谢。$/);
    expect((await call('GET', `/api/notices/${ids.first}/report`)).json()).toMatchObject({ read: 2, byOffice: [{ office: '第一分局', read: 2, readRate: 1 }, { office: '第二分局', read: 0 }] });
  });

  it('with two notices open, lists them for 已读 and confirms the one 已读 N names', async () => {
    ids.second = await sendNotice('社保费申报提醒');
    expect((await botSaid(bobSeen, 2))[1]).toMatch(/^【通知 2】社保费申报提醒/);
    bob.say('已读').to(me);
    expect((await botSaid(bobSeen, 3))[2]).toBe('您有 2 条通知待确认。通知 1：留抵退税申请提醒\n通知 2：社保费申报提醒\n请回复“已读”加通知编号，例如“已读 1”。');
    bob.say('已读 2').to(me);
    expect((await botSaid(bobSeen, 4))[3]).toMatch(/^已确认阅读通知 2「社保费申报提醒」（.+），谢谢。$/);
    expect((await call('GET', `/api/notices/${ids.second}/report`)).json()).toMatchObject({ read: 1, byOffice: [{ office: '第一分局', read: 0 }, { office: '第二分局', read: 1 }] });
    expect((await call('GET', `/api/notices/${ids.first}/report`)).json()).toMatchObject({ read: 2 });
  });

  it('sends a reminder round only to the chat that has not read', async () => {
    const before = { alice: fromBot(aliceSeen).length, room: fromBot(roomSeen, room.id).length };
    // A working day, 25 hours after the notice: round 1 of notice 1 is due.
    clock = new Date(SENT_AT.getTime() + 25 * 3_600_000);
    await t.scope.noticeJob.run();
    const reminder = (await botSaid(bobSeen, 5))[4];
    expect(reminder).toBe('【提醒】留抵退税申请提醒\n（通知 1，您还没有确认阅读）\n看完请回复“已读”确认（同时有几条通知时回复“已读 1”）。');
    const report = (await call('GET', `/api/notices/${ids.first}/report`)).json();
    expect(report.reminders).toEqual([{ round: 1, afterHours: 24, startedAt: clock.toISOString(), recipients: 1, finishedAt: clock.toISOString() }]);
    await new Promise((r) => setTimeout(r, 300));
    expect(fromBot(aliceSeen)).toHaveLength(before.alice);
    expect(fromBot(roomSeen, room.id)).toHaveLength(before.room);
    expect(fromBot(bobSeen)).toHaveLength(5);
  });

  it('leaves a 已读 in the room unanswered once nothing is open there: it is chatter then', async () => {
    // The room got notice 2 as well: confirmed by number, then nothing is open.
    carol.say('已读 2').to(room);
    expect((await botSaid(roomSeen, 4, room.id))[3]).toMatch(/已确认阅读通知 2「社保费申报提醒」/);
    carol.say('已读').to(room);
    const chatId = await t.store.identities.upsertChat({ channel: 'wechat', channelChatId: room.id, kind: 'group' });
    await vi.waitFor(async () => expect((await t.store.messages.recent(chatId, 20)).filter((m) => m.direction === 'in').map((m) => m.text)).toEqual(['已读', '已读 2', '已读']), WAIT);
    await new Promise((r) => setTimeout(r, 300));
    expect(fromBot(roomSeen, room.id)).toHaveLength(4);
    expect((await call('GET', `/api/notices/${ids.second}/report`)).json()).toMatchObject({ read: 2 });
    expect(t.errors()).toEqual([]);
  });
});
