import { describe, expect, it } from 'vitest';
import { checkAccountName, isAccountRole } from '../../src/core/accounts.js';

describe('account names', () => {
  it('keeps a name as typed, without the spaces around it', () => {
    expect(checkAccountName('  李工 ')).toEqual({ ok: true, name: '李工' });
    expect(checkAccountName('第一分局 张科长')).toEqual({ ok: true, name: '第一分局 张科长' });
    expect(checkAccountName('<b>王</b>')).toEqual({ ok: true, name: '<b>王</b>' });
  });

  it('counts characters, not UTF-16 units: 40 are fine, 41 are not', () => {
    expect(checkAccountName('𠀀'.repeat(40))).toMatchObject({ ok: true });
    expect(checkAccountName('李'.repeat(41))).toEqual({ ok: false, message: '名称太长，最多 40 个字' });
  });

  it('refuses a blank name and one with line breaks, tabs or U+0000', () => {
    expect(checkAccountName(' \u3000 ')).toEqual({ ok: false, message: '名称不能为空' });
    for (const name of ['李\n工', '李\t工', '李\u0000工', '李\u2028工']) expect(checkAccountName(name), JSON.stringify(name)).toEqual({ ok: false, message: '名称不能包含换行或控制字符' });
  });

  it('knows the three roles and nothing else', () => {
    expect(['admin', 'staff', 'agent'].every(isAccountRole)).toBe(true);
    expect(isAccountRole('Admin')).toBe(false);
    expect(isAccountRole('root')).toBe(false);
  });
});
