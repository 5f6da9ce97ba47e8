/**
 * The pages talk to the gateway only through its documented HTTP API (/docs), like any other
 * client. This is the one place that sends a request and turns every failure into a message a
 * person can act on.
 */

/** How long a request may take before the page gives up and says so. */
const TIMEOUT_MS = 20_000;

/**
 * A request that failed: the HTTP status (0 when the server could not be reached), the API's
 * stable code, a Chinese message, and for 429 the seconds to wait (Retry-After) when the server said.
 */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly retryAfter: number | null = null,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** What to send: method, a JSON body or a file sent as it is (a CSV upload), bearer token, and whether the answer is a file. */
export interface RequestOptions {
  readonly method?: 'GET' | 'POST';
  readonly body?: unknown;
  /** A file to send as the whole body, with this content type, instead of JSON. */
  readonly file?: { readonly data: Blob; readonly type: string };
  /** 'blob' for a download (the CSV template); JSON otherwise. */
  readonly expect?: 'json' | 'blob';
  readonly token?: string | null;
}

/** A message for a status whose body said nothing usable (a proxy's error page, say). */
function fallbackMessage(status: number): string {
  if (status === 401) return '访问令牌错误或已失效';
  if (status === 403) return '没有权限执行此操作';
  if (status === 404) return '找不到请求的内容';
  if (status === 429) return '操作太频繁，请稍后再试';
  if (status >= 500) return '服务暂时不可用，请稍后再试';
  return `请求失败（${status}）`;
}

/** Sends a request to the API and answers its JSON body; throws {@link ApiError} on any failure. */
export async function request<T>(path: string, options: RequestOptions = {}): Promise<T> {
  const headers: Record<string, string> = { accept: options.expect === 'blob' ? '*/*' : 'application/json' };
  if (options.file) headers['content-type'] = options.file.type;
  else if (options.body !== undefined) headers['content-type'] = 'application/json';
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  let response: Response;
  try {
    response = await fetch(path, {
      method: options.method ?? 'GET',
      headers,
      body: options.file ? options.file.data : options.body === undefined ? undefined : JSON.stringify(options.body),
      signal: AbortSignal.timeout(TIMEOUT_MS),
      credentials: 'omit',
    });
  } catch (err) {
    if (err instanceof DOMException && err.name === 'TimeoutError') throw new ApiError(0, 'TIMEOUT', '服务器长时间没有响应，请稍后再试');
    throw new ApiError(0, 'NETWORK', '无法连接服务器，请检查网络后重试');
  }
  if (response.ok && options.expect === 'blob') return (await response.blob()) as T;
  const body: unknown = await response.json().catch(() => null);
  if (response.ok) return body as T;
  const error = (body as { error?: { code?: unknown; message?: unknown } } | null)?.error;
  const message = typeof error?.message === 'string' ? error.message : fallbackMessage(response.status);
  const wait = Number(response.headers.get('retry-after'));
  throw new ApiError(response.status, typeof error?.code === 'string' ? error.code : `HTTP_${response.status}`, message, Number.isInteger(wait) && wait > 0 ? wait : null);
}
