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
