import type { ChatRef } from './profile.js';
import type { NoticeItem } from './notice.js';
import { chinaDate, isWorkingDay, type WorkCalendar } from '../tickets/workdays.js';
import { placeOrder } from './vocabulary.js';

/**
 * Delivering a notice, the pure part: what each recipient's message says, the keys that make each
 * message go out once ever, what 已读 means, when a reminder may go, and the report's figures.
 */

/** The outbox key of the notice itself for one chat: queued once ever, whoever queues it. */
export function noticeKey(noticeId: string, chat: ChatRef): string {
  return `notice:${noticeId}:${chat.channel}:${chat.chatId}`;
}

/** The outbox key of one reminder round for one chat. */
export function reminderKey(noticeId: string, round: number, chat: ChatRef): string {
  return `notice:${noticeId}:reminder:${round}:${chat.channel}:${chat.chatId}`;
}

/** The callback data of the 已读 button (Telegram allows 64 bytes: `read:` and a UUID fit). */
export function readButtonData(noticeId: string): string {
  return `read:${noticeId}`;
}

/** The notice id in a button's callback data, or null when the data is not a 已读 button's. */
export function readButtonNotice(data: string): string | null {
  const match = /^read:([0-9a-f-]{36})$/i.exec(data);
  return match?.[1] ?? null;
}

/** The 已读 button, in inline keyboard rows. */
export function readButtons(noticeId: string): { text: string; data: string }[][] {
  return [[{ text: '已读', data: readButtonData(noticeId) }]];
}

/** What a notice message needs of its notice. */
export interface NoticeText {
  readonly number: number;
  readonly title: string;
  readonly text: string;
  readonly items: readonly NoticeItem[];
}

/** The line that tells a recipient how to confirm; a button does it on Telegram, a reply everywhere. */
function confirmLine(number: number, buttons: boolean): string {
  return buttons ? `看完请点“已读”，或回复“已读 ${number}”。` : `看完请回复“已读”确认（同时有几条通知时回复“已读 ${number}”）。`;
}

/** Cuts `text` to `max` characters, saying so. */
function cut(text: string, max: number): string {
  if (text.length <= max) return text;
  const note = '……（篇幅所限，全文请向主管税务机关咨询）';
  return text.slice(0, Math.max(0, max - note.length)) + note;
}

/**
 * One recipient's message: number and title, the text (a pack's cover note), then only the items
 * meant for this recipient (一户一策), each with its basis, and how to confirm reading. Kept within
 * the channel's length by cutting the items' bodies evenly, never the title or the confirm line.
 */
export function noticeMessage(notice: NoticeText, itemIds: readonly string[], maxLength: number, buttons: boolean): string {
  const head = `【通知 ${notice.number}】${notice.title}\n\n${notice.text}`;
  const foot = confirmLine(notice.number, buttons);
  const items = itemIds.flatMap((id) => notice.items.filter((i) => i.entryId === id));
  const render = (bodyMax: number): string => {
    const parts = items.map((item, i) => {
      const basis = item.sources.length > 0 ? `\n依据：${item.sources.join('；')}` : '';
      return `${i + 1}. ${item.title}\n${cut(item.body, bodyMax)}${basis}`;
    });
    return [head, ...parts, foot].join('\n\n');
  };
  let bodyMax = Math.max(0, ...items.map((i) => i.body.length));
  let message = render(bodyMax);
  while (message.length > maxLength && bodyMax > 0) {
    bodyMax = Math.floor(bodyMax * 0.8);
    message = render(bodyMax);
  }
  return cut(message, maxLength);
}

/** A reminder message: the round's own text or 【提醒】 and the title, and how to confirm. */
export function reminderMessage(notice: Pick<NoticeText, 'number' | 'title'>, text: string | null, buttons: boolean): string {
  return `${text ?? `【提醒】${notice.title}`}\n（通知 ${notice.number}，您还没有确认阅读）\n${confirmLine(notice.number, buttons)}`;
}

/** A 已读 reply: which notice, when it names one. */
export interface ReadAck {
  readonly number: number | null;
}

/** Reads 已读, 已读 12, 已读12, 已阅 (with trailing punctuation); null for anything else. */
export function readAck(text: string): ReadAck | null {
  const match = /^\s*已(?:读|阅)\s*(?:第?\s*(\d{1,9})\s*号?)?\s*[。.!！]*\s*$/.exec(text);
  if (!match) return null;
  return { number: match[1] ? Number(match[1]) : null };
}

/** A notice a chat has received and not yet confirmed. */
export interface OpenNotice {
  readonly id: string;
  readonly number: number;
  readonly title: string;
}

/** What a 已读 reply does: confirm one notice, answer without confirming anything, or nothing at all. */
export type AckDecision = { readonly confirm: OpenNotice } | { readonly reply: string } | { readonly silent: true };

/**
 * Which notice a 已读 reply confirms: the one named by number, else the only one open; with
 * several open and none named, a list to choose from; with none, a short answer. A 已读 in a group
 * that did not address the bot (`addressed` false: a notice there asks for a plain 已读, and WeChat
 * shows the bot no reply-to) was meant for the bot only while the group has a notice open: with none,
 * it is chatter and gets no answer.
 */
export function decideAck(ack: ReadAck, open: readonly OpenNotice[], addressed = true): AckDecision {
  if (!addressed && open.length === 0) return { silent: true };
  if (ack.number !== null) {
    const named = open.find((n) => n.number === ack.number);
    if (named) return { confirm: named };
    return { reply: open.length > 0 ? `没有待确认的通知 ${ack.number}。${openList(open)}` : `没有待确认的通知 ${ack.number}，您收到的通知都已确认。` };
  }
  const [only] = open;
  if (open.length === 1 && only) return { confirm: only };
  if (open.length === 0) return { reply: '您目前没有待确认的通知。' };
  return { reply: `您有 ${open.length} 条通知待确认。${openList(open)}` };
}

function openList(open: readonly OpenNotice[]): string {
  const lines = open.slice(0, 10).map((n) => `通知 ${n.number}：${n.title}`);
  return `${lines.join('\n')}\n请回复“已读”加通知编号，例如“已读 ${open[0]?.number ?? 1}”。`;
}

/** The answer once a notice is confirmed. */
export function ackReply(notice: Pick<OpenNotice, 'number' | 'title'>, at: Date, already: boolean): string {
  return already ? `通知 ${notice.number}「${notice.title}」此前已确认阅读。` : `已确认阅读通知 ${notice.number}「${notice.title}」（${beijingTime(at)}），谢谢。`;
}

/** An instant as Beijing time, `2026-11-29 18:30`. */
export function beijingTime(at: Date): string {
  return new Date(at.getTime() + 8 * 3600_000).toISOString().slice(0, 16).replace('T', ' ');
}

/** The hours reminders may go out, Beijing time, on working days: [from, to) in minutes after midnight. */
export interface OfficeHours {
  readonly fromMinute: number;
  readonly toMinute: number;
}

/** Reads `9:00-17:00` (or `09:00-17:30`); null when it is not a range within a day. */
export function readOfficeHours(text: string): OfficeHours | null {
  const match = /^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$/.exec(text);
  if (!match) return null;
  const [h1, m1, h2, m2] = match.slice(1).map(Number) as [number, number, number, number];
  const fromMinute = h1 * 60 + m1;
  const toMinute = h2 * 60 + m2;
  if (m1 > 59 || m2 > 59 || toMinute > 24 * 60 || fromMinute >= toMinute) return null;
  return { fromMinute, toMinute };
}

/**
 * Whether `at` falls within office hours on a working day, Beijing time. Working days are those of
 * the calendar (knowledge/calendar, as for ticket deadlines): statutory holidays are not, the
 * weekend days worked (调休) are.
 */
export function withinOfficeHours(at: Date, hours: OfficeHours, calendar: WorkCalendar): boolean {
  if (!isWorkingDay(chinaDate(at), calendar)) return false;
  const local = new Date(at.getTime() + 8 * 3600_000);
  const minute = local.getUTCHours() * 60 + local.getUTCMinutes();
  return minute >= hours.fromMinute && minute < hours.toMinute;
}

/** When reminder rounds may go out: REMINDER_HOURS on the working days of the calendar. */
export interface ReminderSchedule {
  readonly hours: OfficeHours;
  readonly calendar: WorkCalendar;
}

const HOUR_MS = 3_600_000;
const MINUTE_MS = 60_000;

/** The instant a minute of a Beijing calendar day (YYYY-MM-DD) begins. */
function beijingMinute(day: string, minute: number): Date {
  return new Date(Date.parse(`${day}T00:00:00+08:00`) + minute * MINUTE_MS);
}

/**
 * The first instant at or after `at` within office hours on a working day: `at` itself when it is
 * one, else the start of office hours on that day or the next working day (after a weekend, a
 * holiday; a 调休 weekend day is a working day).
 */
export function nextOfficeHour(at: Date, schedule: ReminderSchedule): Date {
  const { hours, calendar } = schedule;
  if (withinOfficeHours(at, hours, calendar)) return at;
  let day = chinaDate(at);
  if (isWorkingDay(day, calendar) && at < beijingMinute(day, hours.fromMinute)) return beijingMinute(day, hours.fromMinute);
  // The longest run of days off is a holiday with its weekends, about nine days: a year is plenty.
  for (let i = 0; i < 366; i++) {
    day = chinaDate(new Date(Date.parse(`${day}T12:00:00+08:00`) + 24 * HOUR_MS));
    if (isWorkingDay(day, calendar)) return beijingMinute(day, hours.fromMinute);
  }
  throw new RangeError(`${chinaDate(at)} 之后一年内没有工作日，请检查节假日安排`);
}

/**
 * When a reminder round planned `afterHours` after the notice was sent goes out, as seen at `now`:
 * once its delay has passed, at the first office hour on a working day. A round that falls due in
 * the evening, on a weekend or on a holiday waits for the next working day's office hours; one whose
 * time passed while nothing ran goes at the next office hour from `now`.
 */
export function nextReminderAt(sentAt: Date, afterHours: number, now: Date, schedule: ReminderSchedule): Date {
  return nextOfficeHour(new Date(Math.max(sentAt.getTime() + afterHours * HOUR_MS, now.getTime())), schedule);
}

/** Whether that round may go out at `now`: its time ({@link nextReminderAt}) is now. */
export function reminderDue(sentAt: Date, afterHours: number, now: Date, schedule: ReminderSchedule): boolean {
  return nextReminderAt(sentAt, afterHours, now, schedule).getTime() <= now.getTime();
}

/**
 * The reminder round to do next (1-based) after the rounds already finished, with its plan; null
 * when the plan has no more. A round started and not finished (a crash mid-round) is the next one.
 */
export function nextRound<R>(plan: readonly R[], finished: number): { readonly round: number; readonly reminder: R } | null {
  const reminder = plan[finished];
  return reminder === undefined ? null : { round: finished + 1, reminder };
}

/** Where one recipient's delivery stands, as the report counts it. */
export type DeliveryState = 'queued' | 'waiting' | 'sent' | 'failed' | 'unreachable';

/** One recipient as the report reads it. */
export interface DeliveryRow {
  readonly office: string | null;
  readonly state: DeliveryState;
  /** The network said which message it became (Telegram's message id). */
  readonly acknowledged: boolean;
  readonly readAt: Date | null;
  readonly items: readonly string[];
  /** Waiting, and not due before this (a WeChat day budget puts it on a later day). */
  readonly notBefore: Date | null;
}

/** Figures for a group of recipients. */
export interface Figures {
  readonly targeted: number;
  readonly sent: number;
  readonly delivered: number;
  readonly failed: number;
  readonly unreachable: number;
  readonly read: number;
  /** Read over targeted (0 when nobody is targeted), the figure the offices report. */
  readonly readRate: number;
}

/** The report's figures: in total, by office, per pack item, and what waits for a later day. */
export interface DeliveryFigures extends Figures {
  /** Not yet sent: queued or waiting for a slot, a retry or a budget. */
  readonly pending: number;
  readonly byOffice: readonly (Figures & { readonly office: string | null })[];
  readonly items: readonly { readonly entryId: string; readonly recipients: number }[];
  /** Waiting for a later Beijing day (the day budget was spent), and the first such day. */
  readonly deferred: { readonly count: number; readonly until: string | null };
}

function figures(rows: readonly DeliveryRow[]): Figures {
  let sent = 0;
  let delivered = 0;
  let failed = 0;
  let unreachable = 0;
  let read = 0;
  for (const r of rows) {
    if (r.state === 'sent') sent++;
    if (r.state === 'sent' && r.acknowledged) delivered++;
    if (r.state === 'failed') failed++;
    if (r.state === 'unreachable') unreachable++;
    if (r.readAt) read++;
  }
  const targeted = rows.length;
  return { targeted, sent, delivered, failed, unreachable, read, readRate: targeted === 0 ? 0 : Math.round((read / targeted) * 10_000) / 10_000 };
}

/** The report of one notice from its recipients' rows, `now` deciding what waits for another day. */
export function deliveryFigures(rows: readonly DeliveryRow[], itemOrder: readonly string[], now: Date): DeliveryFigures {
  const offices = new Map<string | null, DeliveryRow[]>();
  const items = new Map(itemOrder.map((id) => [id, 0]));
  const today = chinaDate(now);
  let pending = 0;
  let deferred = 0;
  let until: string | null = null;
  for (const r of rows) {
    const group = offices.get(r.office) ?? [];
    group.push(r);
    offices.set(r.office, group);
    for (const id of r.items) items.set(id, (items.get(id) ?? 0) + 1);
    if (r.state === 'queued' || r.state === 'waiting') pending++;
    if (r.state === 'waiting' && r.notBefore && chinaDate(r.notBefore) > today) {
      deferred++;
      const day = chinaDate(r.notBefore);
      if (until === null || day < until) until = day;
    }
  }
  const byOffice = [...offices.entries()]
    .map(([office, group]) => ({ office, ...figures(group) }))
    .sort((a, b) => (a.office === null ? 1 : b.office === null ? -1 : placeOrder(a.office, b.office)));
  return { ...figures(rows), pending, byOffice, items: [...items.entries()].map(([entryId, recipients]) => ({ entryId, recipients })), deferred: { count: deferred, until } };
}

/** How each channel carries a notice: its longest message, and whether it has buttons. */
export const MESSAGE_FORMS: Readonly<Record<ChatRef['channel'], { readonly maxLength: number; readonly buttons: boolean }>> = {
  telegram: { maxLength: 4096, buttons: true },
  // WeChat shows long texts folded; 1,500 characters is what the adapter sends in one message.
  wechat: { maxLength: 1500, buttons: false },
};

/**
 * Whether a WeChat id is a room's, as the common puppets write them: `...@chatroom` (padlocal, xp,
 * the mock and the services over them), `@@...` (wechat4u and the web protocol, whose contacts start
 * with one `@`, so "has an @" is not the rule).
 */
export function isWechatRoomId(id: string): boolean {
  return id.endsWith('@chatroom') || id.startsWith('@@');
}

/** Whether a chat is a group, by how its network names it: Telegram groups are negative, WeChat rooms as {@link isWechatRoomId}. */
export function chatKindOf(chat: ChatRef): 'private' | 'group' {
  return (chat.channel === 'telegram' ? chat.chatId.startsWith('-') : isWechatRoomId(chat.chatId)) ? 'group' : 'private';
}
