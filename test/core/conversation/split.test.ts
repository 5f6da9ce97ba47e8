import { describe, expect, it } from 'vitest';
import { splitText } from '../../../src/core/conversation/split.js';

describe('splitText', () => {
  it('leaves a short text whole', () => {
    expect(splitText('个体户注销', 10)).toEqual(['个体户注销']);
    expect(splitText('', 10)).toEqual(['']);
  });

  it('cuts after the last sentence end that fits', () => {
    expect(splitText('第一句话。第二句话！第三句话？', 11)).toEqual(['第一句话。第二句话！', '第三句话？']);
    expect(splitText('第一行\n第二行\n第三行', 9)).toEqual(['第一行\n第二行\n', '第三行']);
  });

  it('prefers a sentence end to a later comma', () => {
    expect(splitText('短句。然后是一个很长的分句，还有', 14)).toEqual(['短句。', '然后是一个很长的分句，还有']);
  });

  it('falls back to a comma, then to a hard cut', () => {
    expect(splitText('没有句号的长句，继续写下去', 10)).toEqual(['没有句号的长句，', '继续写下去']);
    expect(splitText('一二三四五六七八九十', 4)).toEqual(['一二三四', '五六七八', '九十']);
  });

  it('never cuts inside a figure', () => {
    const parts = splitText('共1,284户，阅读率3.5%，其余未读', 12);
    expect(parts).toEqual(['共1,284户，', '阅读率3.5%，其余未读']);
  });

  it('keeps the spaces after a sentence with it, so the next part does not open blank', () => {
    expect(splitText('第一句。  第二句很长很长', 8)).toEqual(['第一句。  ', '第二句很长很长']);
  });

  it('never cuts a surrogate pair', () => {
    const parts = splitText('𠀀𠀁𠀂𠀃𠀄', 3);
    expect(parts).toEqual(['𠀀', '𠀁', '𠀂', '𠀃', '𠀄']);
  });

  it('rejects a limit that cannot hold a surrogate pair', () => {
    expect(() => splitText('abc', 1)).toThrow(RangeError);
  });

  it('keeps every character and respects the limit on random texts', () => {
    const alphabet = ['税', '票', '个', '体', '户', 'a', '1', ',', '.', '。', '，', '！', '？', '；', '\n', ' ', '𠀀', '、'];
    let seed = 42;
    const random = (): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    for (let round = 0; round < 500; round++) {
      const length = Math.floor(random() * 200);
      const text = Array.from({ length }, () => alphabet[Math.floor(random() * alphabet.length)]).join('');
      const limit = 2 + Math.floor(random() * 40);
      const parts = splitText(text, limit);
      expect(parts.join('')).toBe(text);
      for (const p of parts) {
        expect(p.length).toBeLessThanOrEqual(limit);
        if (text.length > 0) expect(p.length).toBeGreaterThan(0);
        expect(p.charCodeAt(0) >= 0xdc00 && p.charCodeAt(0) <= 0xdfff).toBe(false);
      }
    }
  });
});
