import { beijingTime, deliveryFigures, nextReminderAt, nextRound, type DeliveryFigures, type DeliveryState, type ReminderSchedule } from '../core/notices/delivery.js';
import { excelCsv } from '../core/notices/report-csv.js';
import { chinaDate } from '../core/tickets/workdays.js';
import type { Round, Store, StoredNotice } from '../store/index.js';

/** A notice's report: its figures, the items of a pack with how many got each, and its reminder rounds. */
export interface NoticeReport extends Omit<DeliveryFigures, 'items'> {
  readonly id: string;
  readonly number: number | null;
  readonly title: string;
  readonly state: string;
  readonly sentAt: Date | null;
  readonly items: readonly { readonly entryId: string; readonly title: string; readonly recipients: number }[];
  readonly reminders: readonly (Round & { readonly afterHours: number })[];
  /** The round of the plan still to come and when it will go (office hours on a working day); null when none is. */
  readonly nextReminder: { readonly round: number; readonly afterHours: number; readonly at: Date } | null;
}

/**
 * The report of a notice as it stands now; `schedule` (REMINDER_HOURS and the working-day
 * calendar) tells when the next reminder round will go.
 */
export async function noticeReport(store: Store, notice: StoredNotice, schedule: ReminderSchedule, now = new Date()): Promise<NoticeReport> {
  const [records, rounds] = await Promise.all([store.delivery.records(notice.id), store.delivery.rounds(notice.id)]);
  const figures = deliveryFigures(records, notice.items.map((i) => i.entryId), now);
  // A round started and not yet finished shows among the rounds; the one after it is not due before it ends.
  const next = notice.state === 'queued' && notice.sentAt ? nextRound(notice.reminders, rounds.filter((r) => r.finishedAt !== null).length) : null;
  const sentAt = notice.sentAt;
  return {
    id: notice.id, number: notice.number, title: notice.title, state: notice.state, sentAt,
    ...figures,
    items: figures.items.map((i) => ({ ...i, title: notice.items.find((it) => it.entryId === i.entryId)?.title ?? i.entryId })),
    reminders: rounds.map((r) => ({ ...r, afterHours: notice.reminders[r.round - 1]?.afterHours ?? 0 })),
    nextReminder: next && sentAt && !rounds.some((r) => r.round === next.round)
      ? { round: next.round, afterHours: next.reminder.afterHours, at: nextReminderAt(sentAt, next.reminder.afterHours, now, schedule) }
      : null,
  };
}

const STATE_NAMES: Readonly<Record<DeliveryState, string>> = { queued: '排队中', waiting: '等待发送', sent: '已发送', failed: '发送失败', unreachable: '无法送达' };

/** One row per recipient, for staff to hand on: who, which items, whether and when it arrived and was read. */
export async function noticeReportCsv(store: Store, notice: StoredNotice, now = new Date()): Promise<string> {
  const records = await store.delivery.records(notice.id);
  const titles = new Map(notice.items.map((i) => [i.entryId, i.title]));
  const time = (at: Date | null): string | null => (at ? beijingTime(at) : null);
  return excelCsv([
    ['纳税人识别号', '名称', '主管分局', '渠道', '聊天', '收到的条目', '发送状态', '发送时间', '阅读时间', '确认方式', '提醒次数', '说明'],
    ...records.map((r) => [
      r.taxpayerId, r.name, r.office, r.channel === 'telegram' ? 'Telegram' : '微信', r.chatId, r.items.map((id) => titles.get(id) ?? id).join('；'),
      STATE_NAMES[r.state], time(r.sentAt), time(r.readAt), r.readVia === 'button' ? '按钮' : r.readVia === 'reply' ? '回复' : null, r.remindersSent,
      r.notBefore && chinaDate(r.notBefore) > chinaDate(now) ? `当日额度已用完，顺延至 ${beijingTime(r.notBefore)}` : r.error,
    ]),
  ]);
}

const percent = (rate: number): string => `${(rate * 100).toFixed(1)}%`;

/** The report as lines for the command line (`chunfeng notices report ID`). */
export function reportText(report: NoticeReport): string {
  const state = report.state === 'draft' ? '草稿，尚未发送' : report.state === 'sending' ? '正在排入发送队列' : `开始发送于 ${report.sentAt ? beijingTime(report.sentAt) : ''}`;
  const lines = [
    `通知 ${report.number ?? '（未编号）'}「${report.title}」：${state}`,
    `收件 ${report.targeted}，已发送 ${report.sent}，已送达 ${report.delivered}，失败 ${report.failed}，无法送达 ${report.unreachable}，待发送 ${report.pending}，已读 ${report.read}，阅读率 ${percent(report.readRate)}`,
  ];
  if (report.deferred.count > 0) lines.push(`因微信当日额度用完顺延：${report.deferred.count} 个聊天，最早 ${report.deferred.until ?? ''} 发送`);
  if (report.byOffice.length > 0) {
    lines.push('按主管分局：');
    for (const o of report.byOffice) lines.push(`  ${o.office ?? '（未填分局）'}：收件 ${o.targeted}，已发送 ${o.sent}，失败 ${o.failed}，无法送达 ${o.unreachable}，已读 ${o.read}，阅读率 ${percent(o.readRate)}`);
  }
  if (report.items.length > 0) {
    lines.push('政策包条目（收到的聊天数）：');
    for (const i of report.items) lines.push(`  ${i.title}：${i.recipients}`);
  }
  for (const r of report.reminders) lines.push(`第 ${r.round} 轮提醒（发送后 ${r.afterHours} 小时）：${beijingTime(r.startedAt)} 发给 ${r.recipients} 个聊天${r.finishedAt ? '' : '（进行中）'}`);
  const next = report.nextReminder;
  if (next) lines.push(`第 ${next.round} 轮提醒（发送后 ${next.afterHours} 小时）：预计 ${beijingTime(next.at)} 发给仍未读的聊天（只在工作日的办公时间发出）`);
  return `${lines.join('\n')}\n`;
}
