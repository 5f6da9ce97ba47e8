import { createHash, randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import { newId } from './ids.js';
import { fromStored, toStored, type AccountRole, type Database, type Row } from './schema.js';

/** An account of the staff API and console. */
export interface Account {
  readonly id: string;
  readonly name: string;
  readonly role: AccountRole;
  readonly createdAt: Date;
  /** When it was disabled; null while it is in use. */
  readonly disabledAt: Date | null;
}

/** A new account and its bearer token: the only time the token exists outside its owner's hands. */
export interface CreatedAccount {
  readonly account: Account;
  readonly token: string;
}

/** Accounts by bearer token; tokens themselves are never stored. */
export interface AccountRepository {
  /** The account in use that a bearer token belongs to; null for an unknown token or a disabled account. */
  byToken(token: string): Promise<Account | null>;
  /** Creates an account with a new id and a new token, returned this once. */
  create(name: string, role: AccountRole, now?: Date): Promise<CreatedAccount>;
  /** Every account, disabled ones too, oldest first. */
  list(): Promise<Account[]>;
  /** One account by id, or null. */
  get(id: string): Promise<Account | null>;
  /** Disables an account: its token is refused from now on. Disabling it again keeps the first time. Null when there is no such account. */
  disable(id: string, now?: Date): Promise<Account | null>;
  /** Puts a disabled account back in use with the token it had. Null when there is no such account. */
  enable(id: string): Promise<Account | null>;
  /**
   * Creates the account with this fixed id unless it exists; true when this call created it.
   * Instances starting together create it once (the primary key decides).
   */
  createOnce(id: string, name: string, role: AccountRole, token: string, now?: Date): Promise<boolean>;
  /** Sets the token of an existing account (an operator rotating ADMIN_TOKEN); a disabled account stays disabled. */
  setToken(id: string, token: string): Promise<void>;
}

/** The stored form of a bearer token. */
export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/** A new bearer token: 24 random bytes, 32 URL-safe characters that survive copying from a terminal or a web page. */
export function newToken(): string {
  return randomBytes(24).toString('base64url');
}

function toAccount(row: Omit<Row<'accounts'>, 'token_hash'>): Account {
  return { id: row.id, name: row.name, role: row.role, createdAt: fromStored(row.created_at), disabledAt: row.disabled_at === null ? null : fromStored(row.disabled_at) };
}

/** The columns an {@link Account} is made of: never the token's hash. */
const COLUMNS = ['id', 'name', 'role', 'created_at', 'disabled_at'] as const;

/**
 * Accounts over SQL. A token is found by its hash through the unique index: the comparison the
 * database makes tells nothing about the token, since nobody can pick a token whose hash starts
 * with given bytes, so no constant-time compare is needed there. Disabling and enabling are one
 * UPDATE ... RETURNING each, so the answer is the row as it now is.
 */
export function accountRepository(db: Kysely<Database>): AccountRepository {
  return {
    async byToken(token) {
      const row = await db.selectFrom('accounts').select(COLUMNS).where('token_hash', '=', hashToken(token)).where('disabled_at', 'is', null).executeTakeFirst();
      return row ? toAccount(row) : null;
    },
    async create(name, role, now = new Date()) {
      const token = newToken();
      const row = { id: newId(), name, role, token_hash: hashToken(token), created_at: toStored(now), disabled_at: null };
      await db.insertInto('accounts').values(row).execute();
      return { account: toAccount(row), token };
    },
    async list() {
      const rows = await db.selectFrom('accounts').select(COLUMNS).orderBy('created_at').orderBy('id').execute();
      return rows.map(toAccount);
    },
    async get(id) {
      const row = await db.selectFrom('accounts').select(COLUMNS).where('id', '=', id).executeTakeFirst();
      return row ? toAccount(row) : null;
    },
    async disable(id, now = new Date()) {
      const row = await db
        .updateTable('accounts')
        .set((eb) => ({ disabled_at: eb.fn.coalesce('disabled_at', eb.val(toStored(now))) }))
        .where('id', '=', id)
        .returning(COLUMNS)
        .executeTakeFirst();
      return row ? toAccount(row) : null;
    },
    async enable(id) {
      const row = await db.updateTable('accounts').set({ disabled_at: null }).where('id', '=', id).returning(COLUMNS).executeTakeFirst();
      return row ? toAccount(row) : null;
    },
    async createOnce(id, name, role, token, now = new Date()) {
      const row = await db
        .insertInto('accounts')
        .values({ id, name, role, token_hash: hashToken(token), created_at: toStored(now), disabled_at: null })
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
