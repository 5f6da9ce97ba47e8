import { createHash } from 'node:crypto';
import type { Kysely } from 'kysely';
import { toStored, type AccountRole, type Database } from './schema.js';

/** An account of the staff API and console. */
export interface Account {
  readonly id: string;
  readonly name: string;
  readonly role: AccountRole;
}

/** Accounts by bearer token; tokens themselves are never stored. */
export interface AccountRepository {
  /** The account a bearer token belongs to, or null. */
  byToken(token: string): Promise<Account | null>;
  /**
   * Creates the account with this fixed id unless it exists; true when this call created it.
   * Instances starting together create it once (the primary key decides).
   */
  createOnce(id: string, name: string, role: AccountRole, token: string, now?: Date): Promise<boolean>;
  /** Sets the token of an existing account (an operator rotating ADMIN_TOKEN). */
  setToken(id: string, token: string): Promise<void>;
}

/** The stored form of a bearer token. */
export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/** Accounts over SQL. */
export function accountRepository(db: Kysely<Database>): AccountRepository {
  return {
    async byToken(token) {
      const row = await db.selectFrom('accounts').select(['id', 'name', 'role']).where('token_hash', '=', hashToken(token)).executeTakeFirst();
      return row ?? null;
    },
    async createOnce(id, name, role, token, now = new Date()) {
      const row = await db
        .insertInto('accounts')
        .values({ id, name, role, token_hash: hashToken(token), created_at: toStored(now) })
        .onConflict((oc) => oc.column('id').doNothing())
        .returning('id')
        .executeTakeFirst();
      return row !== undefined;
    },
    async setToken(id, token) {
      await db.updateTable('accounts').set({ token_hash: hashToken(token) }).where('id', '=', id).execute();
    },
  };
}
