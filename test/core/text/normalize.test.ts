import { describe, expect, it } from 'vitest';
import { normalize, stripMentions } from '../../../src/core/text/normalize.js';

describe('normalize: one form for every way of typing', () => {
  it('turns full-width letters, digits and punctuation into half-width', () => {
    expect(normalize('ＵＫｅｙ丢了１２３６６能补吗？')).toBe('ukey丢了12366能补吗?');
    expect(normalize('税率３％，（小规模）')).toBe('税率3%,(小规模)');
  });

  it('turns traditional characters into simplified ones', () => {
    expect(normalize('個體戶註銷')).toBe('个体户注销');
    expect(normalize('發票遺失了怎麼辦')).toBe('发票遗失了怎么办');
    expect(normalize('申請留抵退稅要符合哪些條件')).toBe('申请留抵退税要符合哪些条件');
  });

  it('puts Latin letters in lower case', () => {
    expect(normalize('税务UKey和APP')).toBe('税务ukey和app');
    expect(normalize('OK')).toBe('ok');
  });

  it('leaves simplified Chinese as it is', () => {
    expect(normalize('小规模纳税人增值税有什么优惠')).toBe('小规模纳税人增值税有什么优惠');
  });
});

describe('normalize: @mentions', () => {
  it.each([
    ['a mention before the question', '@春风税务助手 个体户怎么注销'],
    ['a mention after the question', '个体户怎么注销 @春风税务助手'],
    ['a WeChat mention ended by U+2005', '@春风税务助手\u2005个体户怎么注销'],
    ['a trailing WeChat mention', '个体户怎么注销\u2005@春风税务助手\u2005'],
    ['several mentions before', '@张会计 @春风税务助手 个体户怎么注销'],
    ['several mentions after', '个体户怎么注销 @张会计\u2005@春风税务助手'],
    ['mentions at both ends', '@春风税务助手 个体户怎么注销 @张会计'],
    ['a mention typed with a full-width ＠', '＠春风税务助手 个体户怎么注销'],
  ])('removes %s', (_what, text) => {
    expect(normalize(text)).toBe('个体户怎么注销');
  });

  it('keeps an @ in the middle of a sentence: it may be part of the question', () => {
    expect(normalize('请问 @张会计 说的清税证明是什么')).toBe('请问 @张会计 说的清税证明是什么');
    expect(normalize('发票发到邮箱abc@qq.com了吗')).toBe('发票发到邮箱abc@qq.com了吗');
  });

  it('leaves nothing of a message that is only a mention', () => {
    expect(normalize('@春风税务助手')).toBe('');
    expect(normalize('@春风税务助手\u2005')).toBe('');
  });

  it('stripMentions keeps the text between the mentions as typed', () => {
    expect(stripMentions('@春风税务助手\u2005個體戶 註銷')).toBe('個體戶 註銷');
  });
});

describe('normalize: decoration and spacing', () => {
  it('removes emoji, skin tones and joined emoji sequences', () => {
    expect(normalize('发票丢了😭怎么办🙏')).toBe('发票丢了 怎么办');
    expect(normalize('👍🏻 收到')).toBe('收到');
    expect(normalize('👨‍👩‍👧 个税汇算')).toBe('个税汇算');
  });

  it('removes WeChat emoticons written as [微笑], [捂脸], [OK]', () => {
    expect(normalize('[微笑]发票丢了[捂脸]怎么办[OK]')).toBe('发票丢了 怎么办');
  });

  it('keeps brackets that are not an emoticon', () => {
    expect(normalize('[2024]第1号')).toBe('[2024]第1号');
  });

  it('removes decorative symbols such as ★ and ✔', () => {
    expect(normalize('★重要★ 留抵退税✔')).toBe('重要 留抵退税');
  });

  it('collapses runs of whitespace (spaces, tabs, newlines, ideographic spaces) and trims', () => {
    expect(normalize('  发票   丢了\n\t怎么办\u3000\u3000补  ')).toBe('发票 丢了 怎么办 补');
  });

  it('collapses repeated punctuation', () => {
    expect(normalize('怎么办？？？！！！')).toBe('怎么办?!');
  });

  it('gives an empty string for empty input and for decoration only', () => {
    expect(normalize('')).toBe('');
    expect(normalize(' 😊 [微笑] ★ ')).toBe('');
  });
});
