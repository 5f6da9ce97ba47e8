import { describe, expect, it } from 'vitest';
import { DEFAULT_FLOOD_LIMITS, checkFlood } from '../../../src/core/conversation/throttle.js';

const now = new Date('2026-11-22T09:10:00Z');
const secondsAgo = (...s: number[]): Date[] => s.map((n) => new Date(now.getTime() - n * 1000));

describe('checkFlood', () => {
  it('defaults to six messages a minute', () => {
    expect(DEFAULT_FLOOD_LIMITS).toEqual({ maxMessages: 6, windowMs: 60_000 });
  });

  it('allows up to the limit, the current message included', () => {
    expect(checkFlood({ recent: [], warnedAt: null }, now)).toBe('allow');
    expect(checkFlood({ recent: secondsAgo(50, 40, 30, 20, 10), warnedAt: null }, now)).toBe('allow');
  });

  it('warns once over the limit, then drops', () => {
    const recent = secondsAgo(50, 40, 30, 20, 10, 5);
    expect(checkFlood({ recent, warnedAt: null }, now)).toBe('warn');
    expect(checkFlood({ recent, warnedAt: secondsAgo(3)[0] ?? null }, now)).toBe('drop');
  });

  it('forgets messages and warnings that have left the window', () => {
    expect(checkFlood({ recent: secondsAgo(120, 100, 90, 80, 70, 61), warnedAt: null }, now)).toBe('allow');
    expect(checkFlood({ recent: secondsAgo(50, 40, 30, 20, 10, 5), warnedAt: secondsAgo(61)[0] ?? null }, now)).toBe('warn');
  });

  it('takes other limits', () => {
    const limits = { maxMessages: 2, windowMs: 10_000 };
    expect(checkFlood({ recent: secondsAgo(5), warnedAt: null }, now, limits)).toBe('allow');
    expect(checkFlood({ recent: secondsAgo(5, 4), warnedAt: null }, now, limits)).toBe('warn');
    expect(checkFlood({ recent: secondsAgo(20, 15), warnedAt: null }, now, limits)).toBe('allow');
  });
});
