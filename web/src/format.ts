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

/** A share as a percentage with one decimal: 0.4286 → 42.9%. */
export function formatRate(rate: number): string {
  return `${(rate * 100).toFixed(1)}%`;
}

/** How a notice's state reads in the console. */
export function noticeState(state: string): string {
  return ({ draft: '草稿', sending: '正在排队', queued: '已开始发送' } as Record<string, string>)[state] ?? state;
}
