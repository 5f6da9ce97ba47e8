import type Sqlite from 'better-sqlite3';
import {
  CompiledQuery,
  SqliteDialect,
  type DatabaseConnection,
  type Driver,
  type QueryResult,
  type SqliteStatement,
  type TransactionSettings,
} from 'kysely';

/** Prepared statements kept per SQLite connection; the repositories use a few dozen shapes. */
const STATEMENT_CACHE_SIZE = 200;

/** Statements by SQL text, least recently used out first, so queries of varying shape cannot grow it. */
class StatementCache {
  private readonly statements = new Map<string, SqliteStatement>();

  constructor(private readonly file: Sqlite) {}

  get(sql: string): SqliteStatement {
    let statement = this.statements.get(sql);
    if (statement) this.statements.delete(sql);
    else {
      statement = this.file.prepare(sql);
      if (this.statements.size >= STATEMENT_CACHE_SIZE) this.statements.delete(this.statements.keys().next().value as string);
    }
    this.statements.set(sql, statement);
    return statement;
  }

  clear(): void {
    this.statements.clear();
  }
}

function run(statement: SqliteStatement, parameters: readonly unknown[]): QueryResult<unknown> {
  if (statement.reader) return { rows: statement.all(parameters) as unknown[] };
  const { changes, lastInsertRowid } = statement.run(parameters);
  return {
    rows: [],
    numAffectedRows: BigInt(changes),
    ...(lastInsertRowid !== undefined && lastInsertRowid !== null ? { insertId: BigInt(lastInsertRowid) } : {}),
  };
}

/** One statement with its values. */
interface Bound {
  readonly statement: SqliteStatement;
  readonly parameters: readonly unknown[];
}

/**
 * Writes waiting for the end of the turn: one statement, or a unit of several that take effect
 * together or not at all; a unit's promise settles with the result of each.
 */
interface Queued {
  readonly statements: readonly Bound[];
  resolve(results: QueryResult<unknown>[]): void;
  reject(err: unknown): void;
}

/**
 * Group commit: the writes asked for during one turn of the event loop are run together at the end
 * of the turn (setImmediate), in one transaction, and each caller's promise settles once that
 * transaction has committed or failed, so a caller told "stored" can rely on it exactly as with one
 * transaction per statement. Committing writes the changed pages to the write-ahead log: per
 * statement, one message cost some fifty kilobytes of log and half the store's time; per turn, the
 * pages the messages share (the newest rows of a table, its indexes) are written once. The write
 * lock is held only while the turn's statements run, not while the turn's other work goes on, so
 * another process on the same file waits as briefly as before.
 *
 * A statement that fails is undone on its own (SQLite's statement rollback) and rejects; one whose
 * failure ends the whole transaction (a full disk) rejects every write of the turn, as does a
 * failed commit. A unit ({@link GroupCommitSqliteDialect.together}) runs inside a savepoint: when
 * one of its statements fails, the unit's earlier statements are rolled back with it and the unit
 * rejects with that failure, while the rest of the turn commits. Reads run at once and see what is
 * committed. An explicit Kysely transaction first runs the turn's writes, then has the connection
 * to itself until it ends.
 */
class GroupCommit {
  /** Writes asked for in this turn; null while none is. */
  private turn: Queued[] | null = null;
  /** The session that holds an explicit transaction, and a promise that settles when it ends. */
  private owner: Session | null = null;
  private ownerEnded: Promise<void> = Promise.resolve();
  private endOwner: () => void = () => undefined;

  constructor(
    private readonly file: Sqlite,
    private readonly statements: StatementCache,
  ) {}

  async execute(session: Session, query: CompiledQuery): Promise<QueryResult<unknown>> {
    while (this.owner && this.owner !== session) await this.ownerEnded;
    const statement = this.statements.get(query.sql);
    if (this.owner || !writes(statement)) return run(statement, query.parameters);
    return this.queue([{ statement, parameters: query.parameters }]).then(([result]) => result as QueryResult<unknown>);
  }

  /** Runs `queries` as one unit at the end of the turn; see the class comment. */
  async together(queries: readonly CompiledQuery[]): Promise<QueryResult<unknown>[]> {
    while (this.owner) await this.ownerEnded;
    return this.queue(queries.map((q) => ({ statement: this.statements.get(q.sql), parameters: q.parameters })));
  }

  private queue(statements: readonly Bound[]): Promise<QueryResult<unknown>[]> {
    if (!this.turn) {
      this.turn = [];
      setImmediate(() => this.commit());
    }
    const turn = this.turn;
    return new Promise((resolve, reject) => turn.push({ statements, resolve, reject }));
  }

  /** Runs one queued entry; a unit of several inside a savepoint, undone as a whole when one fails. */
  private runEntry(entry: Queued): QueryResult<unknown>[] {
    if (entry.statements.length === 1) return entry.statements.map((b) => run(b.statement, b.parameters));
    this.file.exec('SAVEPOINT chunfeng_unit');
    try {
      const results = entry.statements.map((b) => run(b.statement, b.parameters));
      this.file.exec('RELEASE chunfeng_unit');
      return results;
    } catch (err) {
      if (this.file.inTransaction) this.file.exec('ROLLBACK TO chunfeng_unit; RELEASE chunfeng_unit');
      throw err;
    }
  }

  /** Runs the turn's writes in one transaction and tells each caller. */
  commit(): void {
    const turn = this.turn;
    if (!turn) return;
    this.turn = null;
    const failAll = (err: unknown): void => {
      try {
        if (this.file.inTransaction) this.file.exec('ROLLBACK');
      } finally {
        for (const q of turn) q.reject(err);
      }
    };
    const outcomes: ({ ok: true; results: QueryResult<unknown>[] } | { ok: false; err: unknown })[] = [];
    try {
      this.file.exec('BEGIN IMMEDIATE');
      for (const q of turn) {
        try {
          outcomes.push({ ok: true, results: this.runEntry(q) });
        } catch (err) {
          // Most failures undo only their own statement; some end the transaction, and the turn with it.
          if (!this.file.inTransaction) throw err;
          outcomes.push({ ok: false, err });
        }
      }
      this.file.exec('COMMIT');
    } catch (err) {
      failAll(err);
      return;
    }
    turn.forEach((q, i) => {
      const outcome = outcomes[i] as (typeof outcomes)[number];
      if (outcome.ok) q.resolve(outcome.results);
      else q.reject(outcome.err);
    });
  }

  async begin(session: Session): Promise<void> {
    while (this.owner) await this.ownerEnded;
    this.commit();
    this.file.exec('BEGIN IMMEDIATE');
    this.owner = session;
    this.ownerEnded = new Promise((resolve) => (this.endOwner = resolve));
  }

  /**
   * Ends the session's transaction. A commit that fails is rolled back here, so the connection is
   * left with no transaction, and the rollback Kysely then asks for has nothing to do: the commit's
   * error is the one reported.
   */
  end(session: Session, sql: 'COMMIT' | 'ROLLBACK'): void {
    if (this.owner !== session) {
      if (sql === 'ROLLBACK') return;
      throw new Error('没有进行中的事务');
    }
    try {
      if (this.file.inTransaction) this.file.exec(sql);
    } catch (err) {
      if (this.file.inTransaction) this.file.exec('ROLLBACK');
      throw err;
    } finally {
      this.owner = null;
      this.endOwner();
    }
  }
}

/** Whether a statement may change the database (better-sqlite3 knows: `readonly`). */
function writes(statement: SqliteStatement): boolean {
  return !(statement as SqliteStatement & { readonly readonly: boolean }).readonly;
}

/** What Kysely holds while it runs a query or a transaction. */
class Session implements DatabaseConnection {
  constructor(private readonly commits: GroupCommit) {}

  executeQuery<R>(query: CompiledQuery): Promise<QueryResult<R>> {
    return this.commits.execute(this, query) as Promise<QueryResult<R>>;
  }

  // eslint-disable-next-line require-yield
  async *streamQuery<R>(): AsyncIterableIterator<QueryResult<R>> {
    throw new Error('存储不支持流式查询');
  }
}

class GroupCommitDriver implements Driver {
  private readonly statements: StatementCache;
  readonly commits: GroupCommit;

  constructor(private readonly file: Sqlite) {
    this.statements = new StatementCache(file);
    this.commits = new GroupCommit(file, this.statements);
  }

  async init(): Promise<void> {}

  async acquireConnection(): Promise<DatabaseConnection> {
    return new Session(this.commits);
  }

  async beginTransaction(connection: DatabaseConnection, settings: TransactionSettings): Promise<void> {
    if (settings.isolationLevel || settings.accessMode) throw new Error('SQLite 事务不支持设置隔离级别或访问模式');
    await this.commits.begin(connection as Session);
  }

  async commitTransaction(connection: DatabaseConnection): Promise<void> {
    this.commits.end(connection as Session, 'COMMIT');
  }

  async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    this.commits.end(connection as Session, 'ROLLBACK');
  }

  async releaseConnection(): Promise<void> {}

  async destroy(): Promise<void> {
    this.commits.commit();
    this.statements.clear();
    this.file.close();
  }
}

/** Kysely's SQLite dialect (compiler, adapter, introspection) over the group-commit driver. */
export class GroupCommitSqliteDialect extends SqliteDialect {
  private readonly driver: GroupCommitDriver;

  constructor(file: Sqlite) {
    super({ database: file });
    this.driver = new GroupCommitDriver(file);
  }

  override createDriver(): Driver {
    return this.driver;
  }

  /**
   * Runs the statements as one unit with the turn's other writes: all of them take effect or none
   * does; resolves with each one's result once committed, rejects with the failure of the first
   * that failed.
   */
  together(queries: readonly CompiledQuery[]): Promise<QueryResult<unknown>[]> {
    return this.driver.commits.together(queries);
  }
}
