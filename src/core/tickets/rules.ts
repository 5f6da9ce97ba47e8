import type { TicketCategory } from './intent.js';
import type { LifecycleRules } from './lifecycle.js';

/** The timing of tickets, from knowledge/tickets.yaml: deadlines in working days, the rest in days. */
export interface TicketRules extends LifecycleRules {
  /** The first reply is due within this many working days of registration. */
  readonly firstResponseDays: number;
  /** The ticket is due to be resolved within this many working days, by category. */
  readonly dueDays: Readonly<Record<TicketCategory, number>>;
  /** A resolved ticket not rated within this many days is followed up without a rating. */
  readonly followUpDays: number;
  /** A followed-up ticket is archived this many days later. */
  readonly archiveDays: number;
  /** A user with this many tickets within this many days is a repeat requester. */
  readonly repeatRequester: { readonly tickets: number; readonly days: number };
}

/**
 * The defaults, from 《纳税服务投诉管理办法》 (国家税务总局公告2015年第49号): 服务态度类 10 working days,
 * 服务质效类 and 侵害权益类 20, a first reply within 1; 政策咨询类 (a plain 转人工) is our own choice.
 */
export const DEFAULT_TICKET_RULES: TicketRules = {
  firstResponseDays: 1,
  dueDays: { 服务态度类: 10, 服务质效类: 20, 侵害权益类: 20, 政策咨询类: 3 },
  followUpDays: 3,
  reopenDays: 7,
  archiveDays: 7,
  repeatRequester: { tickets: 3, days: 30 },
};
