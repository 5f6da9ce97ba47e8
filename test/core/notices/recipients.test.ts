import { describe, expect, it } from 'vitest';
import type { Audience } from '../../../src/core/notices/audience.js';
import type { Profile } from '../../../src/core/notices/profile.js';
import { maskName, maskTaxpayerId, planRecipients, summarize, type Candidate } from '../../../src/core/notices/recipients.js';
import { ALL_TOPICS } from '../../../src/core/notices/topics.js';

const profile = (id: string, fields: Partial<Profile>): Profile => ({ taxpayerId: id, name: id, taxpayerType: '一般纳税人', industry: null, credit: null, office: null, region: null, tags: [], ...fields });
const chat = (chatId: string, topics: [string, boolean][] = []) => ({ channel: 'telegram' as const, chatId, topics: new Map(topics) });
const candidate = (id: string, fields: Partial<Profile>, chats: ReturnType<typeof chat>[]): Candidate => ({ subscriberId: `s-${id}`, profile: profile(id, fields), chats });

const A_MAKER = candidate('maker', { industry: 'C', credit: 'A', office: '第一分局' }, [chat('1'), chat('2')]);
const B_SHOP = candidate('shop', { taxpayerType: '小规模纳税人', industry: 'F', credit: 'B', office: '第二分局' }, [chat('3')]);
const PERSON = candidate('person', { taxpayerType: '自然人', office: '第一分局' }, [chat('4', [['留抵退税', false]])]);
const UNLINKED = candidate('new', { credit: 'A', office: '第二分局' }, []);
const ALL = [A_MAKER, B_SHOP, PERSON, UNLINKED];

const item = (entryId: string, category: string, audience: Audience) => ({ entryId, category, audience });
const REFUND = item('vat-refund-eligibility', '留抵退税', { taxpayerType: ['一般纳税人'], credit: ['A', 'B'] });
const SMALL = item('small-scale-vat-relief', '优惠', { taxpayerType: ['小规模纳税人'] });
const ALL_ITEM = item('etax-login', '办税渠道', {});

describe('planning recipients', () => {
  it('sends a plain notice to every linked chat of every profile in the audience', () => {
    const plan = planRecipients(ALL, { audience: { credit: ['A', 'B'] }, topics: [], items: [] });
    expect(plan.recipients.map((r) => r.chat.chatId)).toEqual(['1', '2', '3']);
    expect(plan).toMatchObject({ matched: 3, unlinked: 1, optedOut: 0, withoutItems: 0 });
  });

  it('gives each pack recipient only the items whose tags match its profile (一户一策), untagged items to all', () => {
    const plan = planRecipients(ALL, { audience: {}, topics: [], items: [REFUND, SMALL, ALL_ITEM] });
    expect(plan.recipients.map((r) => [r.chat.chatId, r.items])).toEqual([
      ['1', ['vat-refund-eligibility', 'etax-login']],
      ['2', ['vat-refund-eligibility', 'etax-login']],
      ['3', ['small-scale-vat-relief', 'etax-login']],
      ['4', ['etax-login']],
    ]);
  });

  it('sends no bare cover note: a chat with no item for it gets nothing', () => {
    const plan = planRecipients(ALL, { audience: {}, topics: [], items: [REFUND] });
    expect(plan.recipients.map((r) => r.chat.chatId)).toEqual(['1', '2']);
    expect(plan.withoutItems).toBe(2);
  });

  it('drops items whose topic a chat turned off, and notices about a topic it turned off', () => {
    const optedOut = candidate('maker2', { credit: 'A' }, [chat('5', [['留抵退税', false]]), chat('6', [[ALL_TOPICS, false]])]);
    const pack = planRecipients([optedOut], { audience: {}, topics: [], items: [REFUND, ALL_ITEM] });
    expect(pack.recipients.map((r) => [r.chat.chatId, r.items])).toEqual([['5', ['etax-login']]]);
    expect(pack.withoutItems).toBe(1);
    const notice = planRecipients([optedOut, PERSON], { audience: {}, topics: ['留抵退税'], items: [] });
    expect(notice.recipients).toEqual([]);
    expect(notice.optedOut).toBe(3);
  });

  it('sums up by office, counts each item, and samples one recipient per profile with every item set first', () => {
    const many = Array.from({ length: 12 }, (_, i) => candidate(`m${i}`, { credit: 'A', office: '第一分局' }, [chat(`m${i}`)]));
    const plan = planRecipients([...many, A_MAKER, B_SHOP, PERSON], { audience: {}, topics: [], items: [REFUND, SMALL, ALL_ITEM] });
    const summary = summarize(plan, ['vat-refund-eligibility', 'small-scale-vat-relief', 'etax-login']);
    expect(summary).toMatchObject({ targeted: 16, households: 15, matched: 15 });
    expect(summary.byOffice).toEqual([{ office: '第一分局', households: 14, chats: 15 }, { office: '第二分局', households: 1, chats: 1 }]);
    expect(summary.items).toEqual([{ entryId: 'vat-refund-eligibility', chats: 14 }, { entryId: 'small-scale-vat-relief', chats: 1 }, { entryId: 'etax-login', chats: 16 }]);
    expect(summary.sample).toHaveLength(10);
    expect(summary.sample.slice(0, 3).map((r) => r.subscriberId)).toEqual(['s-m0', 's-shop', 's-person']);
    expect(new Set(summary.sample.map((r) => r.subscriberId)).size).toBe(10);
  });

  it('masks taxpayer ids in the middle and natural persons\' given names', () => {
    expect(maskTaxpayerId('91370102MA0000001W')).toBe('913701********001W');
    expect(maskTaxpayerId('370102198001010031')).toBe('370102********0031');
    expect(maskName({ name: '张三丰', taxpayerType: '自然人' })).toBe('张**');
    expect(maskName({ name: '济南甲制造有限公司', taxpayerType: '一般纳税人' })).toBe('济南甲制造有限公司');
  });
});
