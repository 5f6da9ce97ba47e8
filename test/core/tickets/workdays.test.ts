import { describe, expect, it } from 'vitest';
import { WEEKDAYS_ONLY, addWorkingDays, isWorkingDay, workingDaysBetween, workingDaysLeft, type WorkCalendar } from '../../../src/core/tickets/workdays.js';

/** The State Council's 2026 schedule (国务院办公厅 2025-11-04): holidays and the weekend days worked. */
const days = (from: string, to: string): string[] => {
  const out: string[] = [];
  for (let t = Date.parse(`${from}T00:00:00Z`); t <= Date.parse(`${to}T00:00:00Z`); t += 86_400_000) out.push(new Date(t).toISOString().slice(0, 10));
  return out;
};
const CAL_2026: WorkCalendar = {
  years: new Set([2026]),
  holidays: new Set([
    ...days('2026-01-01', '2026-01-03'), ...days('2026-02-15', '2026-02-23'), ...days('2026-04-04', '2026-04-06'), ...days('2026-05-01', '2026-05-05'),
    ...days('2026-06-19', '2026-06-21'), ...days('2026-09-25', '2026-09-27'), ...days('2026-10-01', '2026-10-07'),
  ]),
  workdays: new Set(['2026-01-04', '2026-02-14', '2026-02-28', '2026-05-09', '2026-09-20', '2026-10-10']),
};
/** An instant given in Beijing time. */
const beijing = (local: string): Date => new Date(`${local}+08:00`);

describe('working days', () => {
  it('skips weekends and holidays and counts the weekend days worked (调休)', () => {
    expect(isWorkingDay('2026-10-01', CAL_2026)).toBe(false); // 国庆, a Thursday
    expect(isWorkingDay('2026-10-10', CAL_2026)).toBe(true); // a Saturday worked
    expect(isWorkingDay('2026-11-28', CAL_2026)).toBe(false); // an ordinary Saturday
    expect(isWorkingDay('2026-11-30', CAL_2026)).toBe(true);
  });

  it('counts N working days after the day of registration and ends at 24:00 Beijing time', () => {
    // Registered Friday 2026-09-18 at 16:00: Mon 21 ... Thu 24 are 4 days, then the 中秋 and 国庆 holidays, 9-20 (a Sunday) is worked.
    // 9-19 Sat off, 9-20 Sun worked (1), 9-21..9-24 (2-5), 9-25..27 off, 9-28..30 (6-8), 10-1..7 off, 10-8 (9), 10-9 (10).
    expect(addWorkingDays(beijing('2026-09-18T16:00:00'), 10, CAL_2026)).toEqual(beijing('2026-10-10T00:00:00'));
    expect(addWorkingDays(beijing('2026-11-27T10:00:00'), 1, CAL_2026)).toEqual(beijing('2026-12-01T00:00:00'));
  });

  it('falls back to Monday to Friday for a year the calendar does not know', () => {
    expect(addWorkingDays(beijing('2027-10-01T09:00:00'), 1, CAL_2026)).toEqual(beijing('2027-10-05T00:00:00'));
    expect(addWorkingDays(beijing('2026-10-01T09:00:00'), 1, WEEKDAYS_ONLY)).toEqual(beijing('2026-10-03T00:00:00'));
  });

  it('measures working days taken and the days left for a countdown', () => {
    expect(workingDaysBetween(beijing('2026-09-30T10:00:00'), beijing('2026-10-09T10:00:00'), CAL_2026)).toBe(2);
    const due = addWorkingDays(beijing('2026-11-23T09:00:00'), 3, CAL_2026); // end of Thursday 11-26
    expect(workingDaysLeft(beijing('2026-11-23T15:00:00'), due, CAL_2026)).toBe(3);
    expect(workingDaysLeft(beijing('2026-11-26T18:00:00'), due, CAL_2026)).toBe(0);
    expect(workingDaysLeft(beijing('2026-11-27T08:00:00'), due, CAL_2026)).toBe(-1);
    expect(workingDaysLeft(beijing('2026-11-30T08:00:00'), due, CAL_2026)).toBe(-2);
  });

  it('refuses a negative or fractional number of days', () => {
    expect(() => addWorkingDays(new Date(), -1, CAL_2026)).toThrow(RangeError);
  });
});
