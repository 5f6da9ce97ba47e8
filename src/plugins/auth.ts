import fp from 'fastify-plugin';
import { randomBytes } from 'node:crypto';
import type { preHandlerAsyncHookHandler } from 'fastify';
import type { Account, AccountRole } from '../store/index.js';
import { ChunfengError } from '../errors.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** A preHandler letting through bearer tokens of the given roles (admins always): 401 without a valid token, 403 for another role. */
    authorize(roles: readonly AccountRole[]): preHandlerAsyncHookHandler;
  }
  interface FastifyRequest {
    account: Account | null;
  }
}

/** The id of the first admin account, fixed so instances starting together create it once. */
const FIRST_ADMIN = 'admin';

/** Options: ADMIN_TOKEN from the configuration, and where to show a generated token once. */
export interface AuthPluginOptions {
  readonly adminToken: string | null;
  readonly announce?: (line: string) => void;
}

/**
 * Bearer-token accounts. At start the first admin account is made: with ADMIN_TOKEN when set (a
 * changed value replaces the stored one), otherwise with a generated token shown once on standard
 * error, never in the log, and stored only as a hash.
 */
export default fp<AuthPluginOptions>(
  async (fastify, opts) => {
    const accounts = fastify.store.accounts;
    if (opts.adminToken) {
      if (!(await accounts.createOnce(FIRST_ADMIN, '管理员', 'admin', opts.adminToken))) await accounts.setToken(FIRST_ADMIN, opts.adminToken);
    } else {
      const token = randomBytes(24).toString('base64url');
      if (await accounts.createOnce(FIRST_ADMIN, '管理员', 'admin', token)) {
        (opts.announce ?? ((line) => process.stderr.write(`${line}\n`)))(`首次启动已生成管理员令牌（只显示这一次，请妥善保存）：${token}`);
      }
    }

    fastify.decorateRequest('account', null);
    fastify.decorate('authorize', (roles: readonly AccountRole[]): preHandlerAsyncHookHandler => async (request) => {
      const header = request.headers.authorization ?? '';
      const token = /^Bearer\s+(\S+)$/i.exec(header)?.[1];
      const account = token ? await accounts.byToken(token) : null;
      if (!account) throw new ChunfengError('UNAUTHORIZED');
      if (account.role !== 'admin' && !roles.includes(account.role)) throw new ChunfengError('FORBIDDEN');
      request.account = account;
    });
  },
  { name: 'auth', dependencies: ['store'] },
);
