import { expect, it } from 'vitest';
import { reportText, type NoticeReport } from '../../src/notices/report.js';

const counts = { targeted: 2, sent: 2, delivered: 2, failed: 0, unreachable: 0, read: 1, readRate: 0.5 };

it('prints the rounds done and when the next will go, for `chunfeng notices report`', () => {
  const report: NoticeReport = {
    id: 'n', number: 3, title: '国庆前通知', state: 'queued', sentAt: new Date('2026-09-30T10:00:00+08:00'), ...counts, pending: 0,
    byOffice: [], items: [], deferred: { count: 0, until: null },
    reminders: [{ round: 1, afterHours: 24, startedAt: new Date('2026-10-08T09:00:00+08:00'), recipients: 1, finishedAt: new Date('2026-10-08T09:00:01+08:00') }],
    nextReminder: { round: 2, afterHours: 224, at: new Date('2026-10-10T09:00:00+08:00') },
  };
  expect(reportText(report).trimEnd().split('\n').slice(-2)).toEqual([
    '第 1 轮提醒（发送后 24 小时）：2026-10-08 09:00 发给 1 个聊天',
    '第 2 轮提醒（发送后 224 小时）：预计 2026-10-10 09:00 发给仍未读的聊天（只在工作日的办公时间发出）',
  ]);
  expect(reportText({ ...report, nextReminder: null })).not.toContain('预计');
});
