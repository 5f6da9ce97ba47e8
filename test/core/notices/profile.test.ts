import { describe, expect, it } from 'vitest';
import { applyUpdate, checkProfileJson, describeError, repeatedIds } from '../../../src/core/notices/profile.js';
import { uscc } from '../../helpers/taxpayers.js';

const ID = uscc(1);

describe('profiles from JSON', () => {
  it('reads a contract Profile into an update and the chats to link', () => {
    const checked = checkProfileJson({
      taxpayerId: ID, name: '济南甲制造有限公司', taxpayerType: '一般纳税人', industry: '制造业', credit: 'A级', office: '第一分局', region: '历下区',
      tags: ['出口企业'], chats: [{ channel: 'telegram', chatId: '-100123' }, { channel: 'wechat', chatId: 'room@chatroom' }, { channel: 'telegram', chatId: -100123 }],
    });
    expect(checked).toEqual({
      ok: true,
      value: {
        update: { taxpayerId: ID, name: '济南甲制造有限公司', taxpayerType: '一般纳税人', industry: 'C', credit: 'A', office: '第一分局', region: '历下区', tags: ['出口企业'] },
        chats: [{ channel: 'telegram', chatId: '-100123' }, { channel: 'wechat', chatId: 'room@chatroom' }],
      },
    });
  });

  it('leaves out the fields an object does not have, and clears those given as null', () => {
    const checked = checkProfileJson({ taxpayerId: ID, name: '甲', taxpayerType: '小规模纳税人', credit: null, tags: null });
    expect(checked.ok && checked.value.update).toEqual({ taxpayerId: ID, name: '甲', taxpayerType: '小规模纳税人', credit: null, tags: [] });
  });

  it('lists every problem of an item, each naming its field', () => {
    const checked = checkProfileJson({ taxpayerId: '123', name: '', taxpayerType: '大企业', credit: 'E', tags: 5, chats: [{ channel: 'qq', chatId: '1' }, { channel: 'telegram', chatId: 'abc' }] });
    expect(checked.ok).toBe(false);
    expect(!checked.ok && checked.errors.map(describeError)).toEqual([
      '纳税人识别号：应为 15、17、18 或 20 位，现为 3 位',
      '名称：不能为空',
      '纳税人类型：应为 一般纳税人、小规模纳税人、个体工商户、自然人 之一，现为“大企业”',
      '信用等级：应为 A、B、M、C、D 之一（可以不填），现为“E”',
      '标签：应为文字列表',
      '聊天：每一项应为 {"channel": "telegram" 或 "wechat", "chatId": "..."}',
      '聊天：Telegram 的 chatId 应为整数，现为“abc”',
    ]);
  });

  it('refuses unknown keys and things that are not objects', () => {
    expect(checkProfileJson({ taxpayerId: ID, name: '甲', taxpayerType: '自然人', phone: '13800000000' })).toEqual({ ok: false, errors: [{ field: null, message: '不认识的字段 phone' }] });
    expect(checkProfileJson([1])).toEqual({ ok: false, errors: [{ field: null, message: '每一项应为一个纳税人对象' }] });
    expect(checkProfileJson({ taxpayerId: 91370102, name: '甲', taxpayerType: '自然人' })).toMatchObject({ ok: false, errors: [{ field: 'taxpayerId', message: '应为文字' }] });
  });

  it('applies an update over the stored profile, keeping the fields it leaves out', () => {
    const stored = { taxpayerId: ID, name: '旧名', taxpayerType: '一般纳税人' as const, industry: 'C', credit: 'A' as const, office: '第一分局', region: '历下区', tags: ['重点户'] };
    expect(applyUpdate(stored, { taxpayerId: ID, name: '新名', taxpayerType: '一般纳税人', credit: null })).toEqual({ ...stored, name: '新名', credit: null });
    expect(applyUpdate(null, { taxpayerId: ID, name: '新户', taxpayerType: '自然人' })).toEqual({ taxpayerId: ID, name: '新户', taxpayerType: '自然人', industry: null, credit: null, office: null, region: null, tags: [] });
  });

  it('finds repeated taxpayer ids and points to the first', () => {
    expect([...repeatedIds(['a', 'b', null, 'a', 'b', 'a'])]).toEqual([[3, 0], [4, 1], [5, 0]]);
  });
});
