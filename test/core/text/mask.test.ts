import { describe, expect, it } from 'vitest';
import { maskPersonalData } from '../../../src/core/text/mask.js';

describe('maskPersonalData', () => {
  it('masks mobile numbers, ID card numbers and 统一社会信用代码 inside Chinese text', () => {
    expect(maskPersonalData('我的电话13812345678，麻烦回电')).toBe('我的电话[手机号]，麻烦回电');
    expect(maskPersonalData('手机 +86 139-0000-0000 或 138 1234 5678')).toBe('手机 [手机号] 或 [手机号]');
    expect(maskPersonalData('身份证号11010519491231002X请核对')).toBe('身份证号[身份证号]请核对');
    expect(maskPersonalData('信用代码91350100M000100Y43的企业')).toBe('信用代码[统一社会信用代码]的企业');
  });

  it('leaves ordinary figures alone', () => {
    const text = '季度销售额30万元，2027年12月31日前有效，12366热线，订单号2026112300001';
    expect(maskPersonalData(text)).toBe(text);
  });

  it('masks full-width digits and 15-digit ID numbers', () => {
    expect(maskPersonalData('电话１３８１２３４５６７８，身份证１１０１０５１９４９１２３１００２Ｘ')).toBe('电话[手机号]，身份证[身份证号]');
    expect(maskPersonalData('老身份证号110105491231002，请更换')).toBe('老身份证号[身份证号]，请更换');
    // Fifteen digits that are no date of birth stay: an order or an account number.
    expect(maskPersonalData('流水号202611990000123')).toBe('流水号202611990000123');
  });

  it('masks bank card numbers whose check digit is right, whole or in groups of four', () => {
    expect(maskPersonalData('退税打到卡号6222021234567890128里')).toBe('退税打到卡号[银行卡号]里');
    expect(maskPersonalData('卡号 6222 0212 3456 7890 128，尾号0128')).toBe('卡号 [银行卡号]，尾号0128');
    expect(maskPersonalData('工行卡４１１１１１１１１１１１１１１１')).toBe('工行卡[银行卡号]');
    // The same length with a wrong check digit is an order or invoice number.
    expect(maskPersonalData('发票号码6222021234567890123')).toBe('发票号码6222021234567890123');
  });
});
