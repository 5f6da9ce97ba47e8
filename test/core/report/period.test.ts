import { describe, expect, it } from 'vitest';
import { firstDayOf, lastDayOf, parseDays, parseWeek, weekOf } from '../../../src/core/report/period.js';

describe('report periods in Beijing time', () => {
  it('an ISO week runs from Monday 00:00 to the next Monday 00:00, Beijing time', () => {
    const week = parseWeek('2026-W48');
    expect(week).toEqual({ ok: true, value: { from: new Date('2026-11-22T16:00:00.000Z'), to: new Date('2026-11-29T16:00:00.000Z'), label: '2026-W48' } });
    if (!week.ok) return;
    expect(firstDayOf(week.value)).toBe('2026-11-23');
    expect(lastDayOf(week.value)).toBe('2026-11-29');
  });

  it('week 1 is the week holding 4 January, even when it starts in December', () => {
    const w = parseWeek('2026-W01');
    expect(w.ok && firstDayOf(w.value)).toBe('2025-12-29');
    const w53 = parseWeek('2026-W53');
    expect(w53.ok && firstDayOf(w53.value)).toBe('2026-12-28');
    expect(parseWeek('2026w5').ok).toBe(true);
  });

  it('says in Chinese what is wrong with a bad week', () => {
    expect(parseWeek('2026-48')).toEqual({ ok: false, message: '“2026-48”不是 ISO 周，应写成 年-W周，例如 2026-W48' });
    expect(parseWeek('2025-W53')).toEqual({ ok: false, message: '2025 年只有第 1 至第 52 周，没有第 53 周' });
    expect(parseWeek('2026-W00')).toEqual({ ok: false, message: '2026 年只有第 1 至第 53 周，没有第 0 周' });
  });

  it('finds the week of an instant by the Beijing date: Sunday 23:30 in Beijing is still that week', () => {
    expect(weekOf(new Date('2026-11-29T15:30:00Z'))).toBe('2026-W48');
    expect(weekOf(new Date('2026-11-29T16:30:00Z'))).toBe('2026-W49');
    expect(weekOf(new Date('2027-01-01T04:00:00Z'))).toBe('2026-W53');
  });

  it('reads from/to as Beijing days, both included, and refuses what is not a span', () => {
    expect(parseDays('2026-11-01', '2026-11-30')).toEqual({
      ok: true, value: { from: new Date('2026-10-31T16:00:00.000Z'), to: new Date('2026-11-30T16:00:00.000Z'), label: '2026-11-01 至 2026-11-30' },
    });
    expect(parseDays('2026-11-31', '2026-12-01')).toEqual({ ok: false, message: 'from 应为日期 YYYY-MM-DD（北京时间），例如 2026-11-23；收到“2026-11-31”' });
    expect(parseDays('2026-11-30', '2026-11-01')).toEqual({ ok: false, message: '结束日期 2026-11-01 早于开始日期 2026-11-30' });
    expect(parseDays('2024-01-01', '2026-01-01')).toEqual({ ok: false, message: '统计区间最长 367 天' });
  });
});
