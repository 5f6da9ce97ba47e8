import { describe, expect, it } from 'vitest';
import { cleanInbound, withoutNul } from '../../../src/core/conversation/inbound.js';
import { message } from './fixtures.js';

describe('U+0000 at the edge', () => {
  it('is removed from text and from every stored field of a message', () => {
    expect(withoutNul('发票\u0000丢了\u0000')).toBe('发票丢了');
    const msg = message('请问\u0000发票丢了', { userName: '张\u0000会计', userId: 'u\u00001', chatId: 'c\u00001', messageId: 'm\u00001' });
    expect(cleanInbound(msg)).toEqual({ ...msg, text: '请问发票丢了', userName: '张会计', userId: 'u1', chatId: 'c1', messageId: 'm1' });
  });

  it('leaves a clean message as it is', () => {
    const msg = message('请问发票丢了');
    expect(cleanInbound(msg)).toBe(msg);
  });
});
