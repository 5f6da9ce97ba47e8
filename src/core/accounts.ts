/**
 * Who may use the staff API and the console, and what an account's name may be. The HTTP routes
 * and the `chunfeng user` commands check the same rules here.
 */

/** The roles, in the order people read them: admins everything, staff notices and the knowledge base, agents tickets. */
export const ACCOUNT_ROLES = ['admin', 'staff', 'agent'] as const;

/** What an account may do. */
export type AccountRole = (typeof ACCOUNT_ROLES)[number];

/** Each role as staff read it (CLI output; the console keeps its own copy, being a separate client). */
export const ROLE_LABELS: Readonly<Record<AccountRole, string>> = { admin: '管理员', staff: '业务人员', agent: '坐席' };

/** Longest account name: a person's name or a team's, as shown beside their replies in the chats. */
export const MAX_ACCOUNT_NAME = 40;

/** Whether a text names one of the roles. */
export function isAccountRole(text: string): text is AccountRole {
  return (ACCOUNT_ROLES as readonly string[]).includes(text);
}

/**
 * An account name as it will be stored and shown, or why it cannot be one. Spaces around it are
 * dropped; control characters (line breaks, U+0000) are refused rather than removed, since the name
 * appears in chat lines such as 【工作人员 李工】 and a changed name would surprise whoever typed it.
 */
export function checkAccountName(raw: string): { ok: true; name: string } | { ok: false; message: string } {
  const name = raw.trim();
  if (name.length === 0) return { ok: false, message: '名称不能为空' };
  if ([...name].length > MAX_ACCOUNT_NAME) return { ok: false, message: `名称太长，最多 ${MAX_ACCOUNT_NAME} 个字` };
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/.test(name)) return { ok: false, message: '名称不能包含换行或控制字符' };
  return { ok: true, name };
}
