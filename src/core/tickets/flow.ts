/**
 * What a message from a requester does to tickets, decided before the FAQ is searched, and what the
 * bot says about it. Pure: the gateway reads the user's latest ticket in the chat and how many of
 * their last questions went unanswered, and stores what this decides with the message.
 */
import { confirmsOffer, intentOf, ratingOf, type TicketCategory } from './intent.js';
import { STATE_LABELS, isOpen, type Rating, type TicketState } from './lifecycle.js';
import type { TicketRules } from './rules.js';
import { addWorkingDays, chinaDate, type WorkCalendar } from './workdays.js';

/** What the flow needs to know of a ticket. */
export interface TicketView {
  readonly number: string;
  readonly state: TicketState;
  readonly category: string;
  readonly dueAt: Date;
  readonly resolvedAt: Date | null;
  readonly rating: number | null;
}

/** How a ticket came to be opened by a message. */
export type OpenSource = 'human' | 'complaint' | 'offer';

/** How urgent a ticket is: harm to a taxpayer's rights first, other complaints next. */
export type Priority = 'normal' | 'high' | 'urgent';

/** What a message does; null: nothing, the FAQ answers it. */
export type TicketStep =
  /** The user's ticket is open: the message goes to it and the bot stays silent. */
  | { readonly kind: 'relay' }
  /** 转人工 again with a ticket open: the same ticket, told again (the message also goes to it). */
  | { readonly kind: 'same' }
  /** 查询工单 / 我的工单. */
  | { readonly kind: 'status' }
  /** A rating of the answered ticket, with what the user wrote after the digit. */
  | { readonly kind: 'rate'; readonly rating: Rating; readonly comment: string | null }
  /** 还没解决 / 重新打开 of an answered ticket (within the reopening window, else refused with `refusal`). */
  | { readonly kind: 'reopen'; readonly refusal: string | null }
  /** A new ticket. */
  | { readonly kind: 'open'; readonly source: OpenSource; readonly category: TicketCategory; readonly priority: Priority }
  | null;

/** What is known of the requester when a message arrives. */
export interface RequesterState {
  readonly latest: TicketView | null;
  /** How many of their last questions in a row went unanswered (0-2); at 2 the bot has offered a person. */
  readonly declines: number;
}

/** "3 等太久了": the rating, and what follows it as a comment. */
function ratingWithComment(text: string): { rating: Rating; comment: string | null } | null {
  const whole = ratingOf(text);
  if (whole) return { rating: whole, comment: null };
  const m = /^\s*([123１２３])[\s.、,，:：]+(.+)$/su.exec(text);
  if (!m) return null;
  const rating = ratingOf(m[1] as string);
  const comment = (m[2] as string).trim().slice(0, 500);
  return rating ? { rating, comment: comment || null } : null;
}

const DAY_MS = 86_400_000;

/** What a message asking something of the service does, given the user's latest ticket in the chat. */
export function ticketStep(question: string, state: RequesterState, now: Date, rules: Pick<TicketRules, 'reopenDays'>): TicketStep {
  const intent = intentOf(question);
  const latest = state.latest;
  if (intent?.kind === 'status') return { kind: 'status' };
  if (latest && isOpen(latest.state)) return intent?.kind === 'human' || intent?.kind === 'complaint' ? { kind: 'same' } : { kind: 'relay' };
  if (latest && latest.state === 'resolved' && latest.rating === null) {
    const rated = ratingWithComment(question);
    if (rated) return { kind: 'rate', ...rated };
  }
  if (intent?.kind === 'reopen' && latest && (latest.state === 'resolved' || latest.state === 'followed_up')) {
    const late = latest.resolvedAt !== null && now.getTime() - latest.resolvedAt.getTime() > rules.reopenDays * DAY_MS;
    return { kind: 'reopen', refusal: late ? `工单 ${latest.number} 答复已超过${rules.reopenDays}天，不能重新打开。需要帮助请回复“转人工”，为您新建工单。` : null };
  }
  if (intent?.kind === 'complaint') return { kind: 'open', source: 'complaint', category: intent.category, priority: intent.category === '侵害权益类' ? 'urgent' : 'high' };
  if (intent?.kind === 'human') return { kind: 'open', source: 'human', category: '政策咨询类', priority: 'normal' };
  if (state.declines >= 2 && confirmsOffer(question)) return { kind: 'open', source: 'offer', category: '政策咨询类', priority: 'normal' };
  return null;
}

/** The deadlines of a ticket opened at `at`: its first reply and its resolution, in working days. */
export function deadlines(category: TicketCategory, at: Date, rules: TicketRules, calendar: WorkCalendar): { dueAt: Date; firstResponseDueAt: Date } {
  return { dueAt: addWorkingDays(at, rules.dueDays[category], calendar), firstResponseDueAt: addWorkingDays(at, rules.firstResponseDays, calendar) };
}

/** A deadline as people read it: the China calendar day it ends on, 2026年12月1日. */
export function dayOf(deadline: Date): string {
  const [y, m, d] = chinaDate(new Date(deadline.getTime() - 1)).split('-').map(Number) as [number, number, number];
  return `${y}年${m}月${d}日`;
}

/** Offered after the second unanswered question in a row. */
export const OFFER = '需要转人工吗？回复“是”，我为您转接工作人员。';

/** Told when a ticket opens; `number` is the placeholder the store fills in. */
export function formatOpened(number: string, source: OpenSource, category: string, due: { dueAt: Date; firstResponseDueAt: Date }): string {
  const head = source === 'complaint' ? `已受理您的投诉（${category}），工单号 ${number}。` : `已为您转接工作人员，工单号 ${number}。`;
  return `${head}工作人员将于${dayOf(due.firstResponseDueAt)}前首次回复，${dayOf(due.dueAt)}前答复办结。`
    + '请直接在这里补充说明，您的消息都会转给工作人员，这期间我不再自动回答；回复“查询工单”可查看进度。';
}

/** 转人工 again while the ticket is open. */
export function formatSame(t: TicketView): string {
  return `您的工单 ${t.number} 正在处理中（${STATE_LABELS[t.state]}），工作人员会在这里回复您。您的留言都会转给工作人员。`;
}

/** 查询工单: the user's latest tickets in the chat, newest first. */
export function formatStatus(tickets: readonly TicketView[]): string {
  if (tickets.length === 0) return '您在这里还没有工单。需要人工帮助请回复“转人工”。';
  return ['您的工单：', ...tickets.map((t) => {
    const open = isOpen(t.state);
    return `${t.number} ${STATE_LABELS[t.state]}${open ? `，答复期限 ${dayOf(t.dueAt)}` : ''}${t.rating !== null ? `，评价：${RATING_LABELS[t.rating as Rating]}` : ''}`;
  })].join('\n');
}

/** How a rating reads. */
export const RATING_LABELS: Readonly<Record<Rating, string>> = { 1: '非常满意', 2: '满意', 3: '不满意' };

/** Sent to the chat when an agent resolves the ticket. */
export function formatRatingRequest(number: string, resolution: string): string {
  return `您的工单 ${number} 已答复：${resolution}\n请为本次服务评价，回复数字：1 非常满意，2 满意，3 不满意；也可以在数字后写下意见，例如“3 等待太久”。如问题还没解决，请回复“还没解决”。`;
}

/** The thanks for a rating. */
export function formatRated(rating: Rating): string {
  return rating === 3 ? '感谢您的评价，很抱歉没能让您满意，负责人会再联系您。还有办税问题可以直接问我。' : '感谢您的评价！还有办税问题可以直接问我。';
}

/** Told when the user reopens a ticket. */
export function formatReopened(number: string): string {
  return `已重新打开工单 ${number}，工作人员会继续跟进，请直接在这里补充说明。`;
}

/** An agent's message as the chat reads it: signed with the agent's name. */
export function signed(agentName: string, text: string): string {
  return `【工作人员 ${agentName}】${text}`;
}
