/** Stable error codes: clients and scripts match on these, never on the message. */
export const ErrorCodes = {
  BAD_REQUEST: { status: 400, message: '请求格式不正确' },
  UNAUTHORIZED: { status: 401, message: '缺少或错误的访问令牌' },
  FORBIDDEN: { status: 403, message: '没有权限执行此操作' },
  NOT_FOUND: { status: 404, message: '找不到请求的资源' },
  CONFLICT: { status: 409, message: '与当前状态冲突，无法执行此操作' },
  TOO_LARGE: { status: 413, message: '请求内容过大' },
  RATE_LIMITED: { status: 429, message: '请求过于频繁，请稍后再试' },
  NOT_READY: { status: 503, message: '服务正在启动，请稍后再试' },
  INTERNAL: { status: 500, message: '服务内部错误，请稍后再试' },
} as const;

/** One of the names in {@link ErrorCodes}. */
export type ErrorCode = keyof typeof ErrorCodes;

/** An error the service means to send: its code is stable, its message safe to show a user. */
export class ChunfengError extends Error {
  readonly status: number;
  readonly code: `CHUNFENG_${ErrorCode}`;

  constructor(code: ErrorCode, message: string = ErrorCodes[code].message) {
    super(message);
    this.name = 'ChunfengError';
    this.status = ErrorCodes[code].status;
    this.code = `CHUNFENG_${code}`;
  }
}

/** The body of every error response. */
export interface ErrorBody {
  error: { code: string; message: string };
}
