import type { AccountRole } from './types';

/** Each role as staff read it, in the order the console lists them. */
export const ROLE_LABELS: Readonly<Record<AccountRole, string>> = { admin: '管理员', staff: '业务人员', agent: '坐席' };

/** What each role may do, shown where an admin picks one. */
export const ROLE_HINTS: Readonly<Record<AccountRole, string>> = {
  admin: '管理账号，可使用全部功能',
  staff: '发布通知、维护知识库',
  agent: '处理转人工的工单',
};

const TIME = new Intl.DateTimeFormat('zh-CN', { year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hour12: false });

/** An API timestamp as a clerk reads it: 2026/11/22 16:30, in the browser's time zone. */
export function formatTime(iso: string): string {
  return TIME.format(new Date(iso));
}

/**
 * A deadline as offices write it: the service's deadlines fall at the end of a day (24:00 Beijing
 * time), which a clock would show as the next day's 00:00; that is written as the day itself, 24:00.
 */
export function formatDeadline(iso: string): string {
  const at = new Date(iso);
  if (at.getHours() !== 0 || at.getMinutes() !== 0) return TIME.format(at);
  return `${TIME.format(new Date(at.getTime() - 60_000)).slice(0, -5)}24:00`;
}

/** Each channel as staff name it. */
export const CHANNEL_LABELS: Readonly<Record<string, string>> = { telegram: 'Telegram', wechat: '微信', web: '网页' };

/** A count with thousands separators, as the journey writes it: 1,284. */
export function formatCount(n: number): string {
  return n.toLocaleString('zh-CN');
}

/** Hours after sending as a clerk says them: 48 小时 is 2 天, 36 小时 stays 36 小时. */
export function formatHours(hours: number): string {
  return hours % 24 === 0 ? `${hours / 24} 天` : `${hours} 小时`;
}

/** Each audience field as staff name it, in the order they are shown. */
export const AUDIENCE_LABELS: Readonly<Record<string, string>> = { taxpayerType: '纳税人类型', industry: '行业', credit: '信用等级', office: '主管分局', region: '地区', tags: '标签' };

/** An audience in one line: 纳税人类型 一般纳税人、小规模纳税人；信用等级 A、B — or 全部纳税人. `industry` maps section letters to their labels. */
export function describeAudience(audience: Partial<Record<string, string[]>>, industry: (code: string) => string = (c) => c): string {
  const parts = Object.keys(AUDIENCE_LABELS)
    .filter((field) => audience[field]?.length)
    .map((field) => `${AUDIENCE_LABELS[field]} ${(audience[field] ?? []).map((v) => (field === 'industry' ? industry(v) : v)).join('、')}`);
  return parts.length ? parts.join('；') : '全部纳税人';
}

/** Each ticket state as the offices' reports name it (受理登记 → 分派处理 → 反馈回访 → 资料归档). */
export const TICKET_STATE_LABELS: Readonly<Record<string, string>> = {
  registered: '已登记', assigned: '已分派', in_progress: '处理中', resolved: '已答复', followed_up: '已回访', archived: '已归档',
};

/** Who said a line of a transcript. */
export const SPEAKER_LABELS: Readonly<Record<string, string>> = { user: '纳税人', agent: '工作人员', bot: '春风' };

/** Each audit event as a clerk reads it; an event the console does not know yet shows its type. */
export const TICKET_EVENT_LABELS: Readonly<Record<string, string>> = {
  registered: '登记工单', claimed: '认领', transferred: '转交', replied: '回复', resolved: '办结（已答复）',
  rated: '纳税人评价', flagged: '标记督办（不满意）', followed_up: '回访', archived: '归档', reopened: '重新打开', overdue: '超期',
};

/** A ticket's priority as staff say it. */
export const PRIORITY_LABELS: Readonly<Record<string, string>> = { normal: '普通', high: '高', urgent: '紧急' };

/** The satisfaction ratings the bot asks for. */
export const RATING_LABELS: Readonly<Record<number, string>> = { 1: '非常满意', 2: '满意', 3: '不满意' };

/** The SLA countdown in working days: 剩余 3 个工作日, 今天到期, 已超时 2 个工作日 (or 已超时: the first reply is late though the answer is not yet due). */
export function formatWorkingDaysLeft(left: number, overdue: boolean): string {
  if (left < 0) return `已超时 ${-left} 个工作日`;
  if (overdue) return '已超时';
  return left === 0 ? '今天到期' : `剩余 ${left} 个工作日`;
}

/** How a ticket opened. */
export const TICKET_SOURCE_LABELS: Readonly<Record<string, string>> = { human: '转人工', complaint: '投诉举报', offer: '两次未答后转人工', agent: '工作人员接管' };

/** How an agent's reply or the bot's message stands on its way to the chat. */
export const DELIVERY_LABELS: Readonly<Record<string, string>> = {
  pending: '等待发送', sending: '发送中', sent: '已送达', failed: '发送失败', expired: '过期未发', unreachable: '无法送达',
};

/** A rate (0-1) as a percentage with one decimal: 87.5%; — when there was nothing to count. */
export function formatRate(rate: number | null): string {
  return rate === null ? '—' : `${(Math.round(rate * 1000) / 10).toFixed(1)}%`;
}

/** Minutes as a clerk reads them: 45 分钟, 3.5 小时, 2.1 天; — for none. */
export function formatMinutes(minutes: number | null): string {
  if (minutes === null) return '—';
  if (minutes < 60) return `${minutes} 分钟`;
  if (minutes < 24 * 60) return `${(minutes / 60).toFixed(1)} 小时`;
  return `${(minutes / 1440).toFixed(1)} 天`;
}

/** An hour of the day as a span: 09:00-10:00. */
export function formatHourSpan(hour: number): string {
  return `${String(hour).padStart(2, '0')}:00-${String(hour + 1).padStart(2, '0')}:00`;
}

/** How a notice's state reads in the console. */
export function noticeState(state: string): string {
  return ({ draft: '草稿', sending: '正在排队', queued: '已开始发送' } as Record<string, string>)[state] ?? state;
}
