import { afterAll, beforeAll, expect, it } from 'vitest';
import { checkProfileJson } from '../../src/core/notices/profile.js';
import { ALL_TOPICS } from '../../src/core/notices/topics.js';
import { uscc } from '../helpers/taxpayers.js';
import { FakeAdapter, appsPerTest, describeEachDatabase, knowledgeIndex, removeTempDirs } from './helpers.js';

afterAll(() => removeTempDirs());
beforeAll(() => void knowledgeIndex(), 180_000);

describeEachDatabase('Taxpayers link their chat and choose topics in the chat', (db) => {
  const apps = appsPerTest(db);

  it('绑定 links the chat once; 退订, 订阅 and 我的订阅 change and show its topics; a question still gets its answer', async () => {
    // One taxpayer sends a dozen commands in a row: more than the flood rule lets through in a minute.
    const { t, adapter } = await apps.start(new FakeAdapter('telegram'), { flood: { limit: 100, windowMs: 60_000 } });
    const profile = checkProfileJson({ taxpayerId: uscc(1), name: '济南甲制造有限公司', taxpayerType: '一般纳税人', office: '第一分局' });
    if (!profile.ok) throw new Error('bad profile');
    await t.store.subscribers.upsert([profile.value]);
    const maker = await t.store.subscribers.get(uscc(1));
    const { code } = await t.store.bindings.issue(maker!.id, 3_600_000, 'admin');

    const chat = { chatKind: 'private' as const, chatId: '7001', userId: '7001' };
    const say = async (text: string): Promise<string> => {
      const before = adapter.sends.length;
      await adapter.deliver(adapter.message(text, chat));
      await adapter.waitForSends(before + 1);
      return adapter.sends.at(-1)!.out.text;
    };

    const wrong = code === '000000' ? '000001' : '000000';
    expect(await say(`绑定 ${wrong}`)).toContain('绑定码不正确');
    expect(await say(`绑定 ${code}`)).toContain('本聊天已关联纳税人“济南甲制造有限公司”');
    expect((await t.store.subscribers.get(uscc(1)))?.chats.map((c) => [c.channel, c.chatId])).toEqual([['telegram', '7001']]);
    expect(await say(`绑定 ${code}`)).toContain('已经用过了');
    expect(await say('绑定')).toContain('6 位绑定码');

    expect(await say('我的订阅')).toContain('您接收全部主题的通知');
    expect(await say('退订 发票')).toContain('已退订“发票”');
    expect(await say('订阅 火星税')).toContain('没有“火星税”这个主题。可以订阅的主题有：');
    expect(await say('退订')).toContain('已退订全部通知');
    expect(await say('订阅 留抵退税')).toContain('已订阅“留抵退税”');
    const topics = await t.store.subscribers.topics({ channel: 'telegram', chatId: '7001' });
    expect(topics).toEqual(new Map([['发票', false], [ALL_TOPICS, false], ['留抵退税', true]]));
    expect(await say('我的订阅')).toMatch(/^正在接收：留抵退税。已退订：.*发票/);

    expect(await say('发票丢了怎么办')).toContain('发票');
    expect(await t.store.tickets.list()).toHaveLength(0);
  });
});
