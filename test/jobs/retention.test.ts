import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { beijingDay, periodRange } from '../../src/core/insight/periods.js';
import { applyRetention } from '../../src/jobs/retention.js';
import { openStore, type Store } from '../../src/store/index.js';
import { removeDir, tempDir } from '../helpers/knowledge.js';

const NOW = new Date('2026-11-29T04:00:00.000Z');
const daysAgo = (n: number): Date => new Date(NOW.getTime() - n * 24 * 3600_000);

let store: Store | null = null;
let dir = '';
afterEach(async () => {
  await store?.close();
  removeDir(dir);
});

describe('the retention job', () => {
  it('deletes group chatter past RETENTION_CHATTER_DAYS, keeps questions unless told, and keeps their counts on the board', async () => {
    dir = tempDir('chunfeng-retention-');
    store = await openStore(`sqlite:${join(dir, 'db.sqlite')}`);
    const group = await store.identities.upsertChat({ channel: 'wechat', channelChatId: 'room@chatroom', kind: 'group', title: '办税群' });
    const say = (text: string, at: Date, entryId: string | null = null) =>
      store!.messages.record({ channel: 'wechat', chatId: group, direction: 'in', text, at, decision: entryId ? { answered: true, entryId, score: 9, reason: 'answered' } : null });
    await say('31 天前的闲聊', daysAgo(31));
    await say('29 天前的闲聊', daysAgo(29));
    await say('100 天前的提问', daysAgo(100), 'invoice-lost');

    expect(await applyRetention(store, { chatterDays: 30, questionDays: 0 }, NOW)).toEqual({ chatter: 1, questions: 0 });
    expect((await store.messages.recent(group, 10)).map((m) => m.text)).toEqual(['100 天前的提问', '29 天前的闲聊']);

    expect(await applyRetention(store, { chatterDays: 30, questionDays: 90 }, NOW)).toEqual({ chatter: 0, questions: 1 });
    expect((await store.messages.recent(group, 10)).map((m) => m.text)).toEqual(['29 天前的闲聊']);
    // Rolled up before it was deleted: the board still counts it.
    const counts = await store.insight.board({ range: periodRange('day', beijingDay(daysAgo(100))) }, NOW);
    expect(counts).toEqual([{ id: 'invoice-lost', count: 1, previous: 0 }]);
  });
});
