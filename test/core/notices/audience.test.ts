import { describe, expect, it } from 'vitest';
import { isEveryone, matchesAudience, readAudience } from '../../../src/core/notices/audience.js';
import type { Profile } from '../../../src/core/notices/profile.js';

const maker: Profile = { taxpayerId: 'X1', name: '甲制造', taxpayerType: '一般纳税人', industry: 'C', credit: 'A', office: '第一分局', region: '历下区', tags: ['出口企业', '重点户'] };
const shop: Profile = { taxpayerId: 'X2', name: '乙商贸', taxpayerType: '小规模纳税人', industry: 'F', credit: 'B', office: '第二分局', region: '市中区', tags: [] };
const person: Profile = { taxpayerId: 'X3', name: '张三', taxpayerType: '自然人', industry: null, credit: null, office: '第一分局', region: null, tags: [] };

const read = (raw: unknown) => {
  const r = readAudience(raw);
  if (!r.ok) throw new Error(r.errors.join('；'));
  return r.audience;
};

describe('audiences', () => {
  it('reads values as staff and the knowledge write them into stored form', () => {
    expect(read({ taxpayerType: ['企业', '一般纳税人'], industry: ['制造业', 'F 批发和零售业'], credit: ['A级', 'b'], office: [' 第一分局 '], tags: ['出口企业'] })).toEqual({
      taxpayerType: ['一般纳税人', '小规模纳税人'], industry: ['C', 'F'], credit: ['A', 'B'], office: ['第一分局'], tags: ['出口企业'],
    });
    expect(read({ region: [] })).toEqual({});
  });

  it('refuses unknown fields and values, naming each', () => {
    expect(readAudience({ size: ['大'], credit: ['E'], industry: 'C' })).toEqual({
      ok: false,
      errors: ['不认识的发送对象字段 size（可用：taxpayerType、industry、credit、office、region、tags）', '信用等级：应为 A、B、M、C、D 之一（可以不填），现为“E”', '行业：应为文字列表'],
    });
    expect(readAudience([])).toMatchObject({ ok: false });
  });

  it('matches any value within a field and every field across', () => {
    const audience = read({ taxpayerType: ['一般纳税人', '小规模纳税人'], credit: ['A', 'B'] });
    expect([maker, shop, person].map((p) => matchesAudience(p, audience))).toEqual([true, true, false]);
    const narrower = read({ taxpayerType: ['企业'], industry: ['制造业', '批发零售业'], credit: ['A'] });
    expect([maker, shop, person].map((p) => matchesAudience(p, narrower))).toEqual([true, false, false]);
  });

  it('takes {} as everyone, and a profile without a value as outside a field that filters it', () => {
    expect([maker, shop, person].every((p) => matchesAudience(p, {}))).toBe(true);
    expect(isEveryone({})).toBe(true);
    expect(isEveryone({ credit: [] })).toBe(true);
    expect(matchesAudience(person, read({ credit: ['A', 'B', 'M', 'C', 'D'] }))).toBe(false);
  });

  it('matches tags when any is shared', () => {
    expect(matchesAudience(maker, read({ tags: ['重点户', '高新技术企业'] }))).toBe(true);
    expect(matchesAudience(shop, read({ tags: ['重点户'] }))).toBe(false);
  });
});
