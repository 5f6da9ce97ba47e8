import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readTicketSettings } from '../../src/knowledge/tickets.js';
import { isWorkingDay } from '../../src/core/tickets/workdays.js';
import { loadKnowledge } from '../../src/knowledge/load.js';
import { REAL_KNOWLEDGE, removeDir, tempDir, writeFiles } from '../helpers/knowledge.js';

const dir = tempDir('chunfeng-tickets-');
afterAll(() => removeDir(dir));

describe('the real knowledge: calendar and ticket rules', () => {
  const { calendar, rules, findings } = readTicketSettings(REAL_KNOWLEDGE, new Date('2026-11-29T04:00:00Z'));

  it('knows 2026 as the State Council published it', () => {
    expect(findings).toEqual([]);
    expect(calendar.years.has(2026)).toBe(true);
    expect(isWorkingDay('2026-02-16', calendar)).toBe(false); // 春节
    expect(isWorkingDay('2026-02-14', calendar)).toBe(true); // Saturday worked
    expect(isWorkingDay('2026-10-08', calendar)).toBe(true);
  });

  it('has the statutory deadlines of the complaint rules, and the complaint-channels entry says the same', () => {
    expect(rules.dueDays).toMatchObject({ 服务态度类: 10, 服务质效类: 20, 侵害权益类: 20 });
    expect(rules.firstResponseDays).toBe(1);
    const entry = loadKnowledge(REAL_KNOWLEDGE, []).entries.find((e) => e.id === 'complaint-channels');
    expect(entry?.answer).toContain(`服务态度类一般${rules.dueDays.服务态度类}个工作日`);
    expect(entry?.answer).toContain(`${rules.dueDays.服务质效类}个工作日`);
    // What the product does, as the entry promises it.
    expect(entry?.answer).toContain(`一般${rules.firstResponseDays}个工作日内首次回复`);
    expect(entry?.answer).toContain(`${rules.reopenDays}天内回复“还没解决”可重新打开`);
  });
});

describe('calendar and rules files as staff edit them', () => {
  it('warns when this year is missing, and from December when next year is', () => {
    const k = writeFiles(join(dir, 'k1'), { 'calendar/2026.yaml': 'year: 2026\nholidays:\n  - 2026-10-01 ~ 2026-10-07\nworkdays: [2026-10-10]\n' });
    const messages = (iso: string): string[] => readTicketSettings(k, new Date(iso)).findings.map((f) => f.message);
    expect(messages('2026-11-29T04:00:00Z')).toEqual([]);
    expect(messages('2026-12-02T04:00:00Z').join()).toContain('缺少 2027 年');
    expect(messages('2027-01-05T04:00:00Z').join()).toContain('缺少 2027 年');
  });

  it('falls back to weekends only and the defaults, with a finding naming the file and line of a mistake', () => {
    const k = writeFiles(join(dir, 'k2'), {
      'calendar/2026.yaml': 'year: 2026\nholidays:\n  - 2026-10-01 ~ 2026-10-07\n  - 2026-13-01\nworkdays: [2026-10-12]\n',
      'tickets.yaml': 'first_response_days: 1\ncategories:\n  服务态度类: 十\n',
    });
    const { rules, findings } = readTicketSettings(k, new Date('2026-11-29T04:00:00Z'));
    expect(findings).toEqual(expect.arrayContaining([
      expect.objectContaining({ line: 4, severity: 'error', message: expect.stringContaining('2026-13-01') }),
      expect.objectContaining({ message: expect.stringContaining('不是周末'), severity: 'warning' }),
      expect.objectContaining({ file: join(k, 'tickets.yaml'), message: expect.stringContaining('categories') }),
    ]));
    expect(rules.dueDays.服务态度类).toBe(10);
  });
});
