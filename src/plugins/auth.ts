import fp from 'fastify-plugin';
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest, preHandlerAsyncHookHandler } from 'fastify';
import { newToken, type Account, type AccountRole } from '../store/index.js';
import { ChunfengError } from '../errors.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** A preHandler letting through bearer tokens of the given roles (admins always): 401 without a valid token, 403 for another role. */
    authorize(roles: readonly AccountRole[]): preHandlerAsyncHookHandler;
    /**
     * The bearer token of a request checked with `verify`, failures throttled per client: what
     * `verify` found, or a 401 (no or a wrong token) or 429 (too many wrong tokens) thrown.
     */
    bearer<T>(request: FastifyRequest, reply: FastifyReply, verify: (token: string) => Promise<T | null>): Promise<T>;
  }
  interface FastifyRequest {
    account: Account | null;
  }
}

/** The id of the first admin account, fixed so instances starting together create it once. */
const FIRST_ADMIN = 'admin';

/**
 * Wrong bearer tokens one client address may send per window before every token it sends is refused
 * with 429 until the window ends: enough for someone mistyping, far too few for guessing. Counted in
 * the store, so instances sharing a database count together.
 */
export const AUTH_FAILURES = { limit: 10, windowMs: 60_000 } as const;

/**
 * A check of a secret in constant time; hashing first makes the lengths equal without leaking them.
 * The expected secret is hashed once.
 */
export function secretCheck(expected: string): (given: string | undefined) => boolean {
  const digest = (s: string): Buffer => createHash('sha256').update(s).digest();
  const want = digest(expected);
  return (given) => given !== undefined && timingSafeEqual(digest(given), want);
}

/** Options: ADMIN_TOKEN from the configuration, and where to show a generated token once. */
export interface AuthPluginOptions {
  readonly adminToken: string | null;
  readonly announce?: (line: string) => void;
}

/**
 * Bearer-token accounts. At start the first admin account is made: with ADMIN_TOKEN when set (a
 * changed value replaces the stored one), otherwise with a generated token shown once on standard
 * error, never in the log, and stored only as a hash. Wrong tokens are throttled per client address.
 */
export default fp<AuthPluginOptions>(
  async (fastify, opts) => {
    const { accounts, budget } = fastify.store;
    if (opts.adminToken) {
      if (!(await accounts.createOnce(FIRST_ADMIN, '管理员', 'admin', opts.adminToken))) await accounts.setToken(FIRST_ADMIN, opts.adminToken);
    } else {
      const token = newToken();
      if (await accounts.createOnce(FIRST_ADMIN, '管理员', 'admin', token)) {
        (opts.announce ?? ((line) => process.stderr.write(`${line}\n`)))(`首次启动已生成管理员令牌（只显示这一次，请妥善保存；登录控制台 /console/ 时使用）：${token}`);
      }
    }

    /**
     * Each token is counted as a failure before it is checked, and given back when it was right: a
     * client past the limit is refused before its token is looked at, so guessing on cannot tell a
     * right token from a wrong one. A request without a token guesses nothing and is not counted.
     */
    fastify.decorate('bearer', async <T>(request: FastifyRequest, reply: FastifyReply, verify: (token: string) => Promise<T | null>): Promise<T> => {
      const token = /^Bearer\s+(\S+)$/i.exec(request.headers.authorization ?? '')?.[1];
      if (!token) throw new ChunfengError('UNAUTHORIZED');
      const key = `authfail:${request.ip}`;
      const now = new Date();
      const [allowed, found] = await Promise.all([budget.tryConsume(key, AUTH_FAILURES.windowMs, AUTH_FAILURES.limit, now), verify(token)]);
      if (!allowed) {
        const seconds = Math.ceil((AUTH_FAILURES.windowMs - (now.getTime() % AUTH_FAILURES.windowMs)) / 1000);
        reply.header('retry-after', String(seconds));
        throw new ChunfengError('RATE_LIMITED', `访问令牌错误次数过多，请 ${seconds} 秒后再试`);
      }
      if (found === null) throw new ChunfengError('UNAUTHORIZED');
      await budget.release(key, AUTH_FAILURES.windowMs, now);
      return found;
    });

    fastify.decorateRequest('account', null);
    fastify.decorate('authorize', (roles: readonly AccountRole[]): preHandlerAsyncHookHandler => async (request, reply) => {
      const account = await fastify.bearer(request, reply, (token) => accounts.byToken(token));
      if (account.role !== 'admin' && !roles.includes(account.role)) throw new ChunfengError('FORBIDDEN');
      request.account = account;
    });
  },
  { name: 'auth', dependencies: ['store'] },
);
