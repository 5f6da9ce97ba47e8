import { describe, expect, it } from 'vitest';
import { beijingDay, isDay, periodRange } from '../../../src/core/insight/periods.js';

describe('periods in Beijing time', () => {
  it('puts an instant on its Beijing day', () => {
    expect(beijingDay(new Date('2026-11-24T15:59:59.999Z'))).toBe('2026-11-24');
    expect(beijingDay(new Date('2026-11-24T16:00:00.000Z'))).toBe('2026-11-25');
  });

  it('gives a day, an ISO week and a calendar month with the period before', () => {
    const iso = (r: ReturnType<typeof periodRange>) => [r.firstDay, r.from.toISOString(), r.to.toISOString(), r.previousFirstDay, r.previousFrom.toISOString()];
    expect(iso(periodRange('day', '2026-11-25'))).toEqual(['2026-11-25', '2026-11-24T16:00:00.000Z', '2026-11-25T16:00:00.000Z', '2026-11-24', '2026-11-23T16:00:00.000Z']);
    // Wednesday: the week from Monday the 23rd; a Sunday belongs to the week before it.
    expect(iso(periodRange('week', '2026-11-25'))).toEqual(['2026-11-23', '2026-11-22T16:00:00.000Z', '2026-11-29T16:00:00.000Z', '2026-11-16', '2026-11-15T16:00:00.000Z']);
    expect(periodRange('week', '2026-11-29').firstDay).toBe('2026-11-23');
    expect(iso(periodRange('month', '2026-03-31'))).toEqual(['2026-03-01', '2026-02-28T16:00:00.000Z', '2026-03-31T16:00:00.000Z', '2026-02-01', '2026-01-31T16:00:00.000Z']);
    expect(periodRange('month', '2027-01-10').previousFirstDay).toBe('2026-12-01');
  });

  it('knows a real day from a malformed or impossible one', () => {
    expect(isDay('2026-02-28')).toBe(true);
    expect(isDay('2026-02-30')).toBe(false);
    expect(isDay('2026-2-3')).toBe(false);
  });
});
