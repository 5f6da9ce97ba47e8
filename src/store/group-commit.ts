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

interface Waiting {
  readonly result: QueryResult<unknown>;
  resolve(result: QueryResult<unknown>): void;
  reject(err: unknown): void;
}

/**
 * Group commit: every write made during one turn of the event loop goes into one transaction,
 * committed at the end of the turn (setImmediate), and each caller's promise settles only once that
 * commit has succeeded or failed, so a caller that has been told "stored" can rely on it exactly as
 * with one transaction per statement. Committing writes the changed pages to the write-ahead log:
 * per statement, one message cost some fifty kilobytes of log and half the store's time; per turn,
 * the pages the messages share (the newest rows of a table, its indexes) are written once.
 *
 * A statement that fails is undone on its own (SQLite's statement rollback) and rejects at once; one
 * whose failure ends the whole transaction (a full disk) rejects every statement of the turn. A
 * SELECT outside a turn's transaction runs at once. An explicit Kysely transaction first commits the
 * turn's writes, then has the connection to itself until it ends.
 */
class GroupCommit {
  /** Writes of this turn waiting for the commit; null while no turn transaction is open. */
  private turn: Waiting[] | null = null;
  /** The session that holds an explicit transaction, and a promise that settles when it ends. */
  private owner: Session | null = null;
  private ownerEnded: Promise<void> = Promise.resolve();
  private endOwner: () => void = () => undefined;

  constructor(
    private readonly file: Sqlite,
    private readonly statements: StatementCache,
    /** Every group commit of this process on the same file, this one included. */
    private readonly peers: Set<GroupCommit>,
  ) {
    peers.add(this);
  }

  /**
   * Opens a write transaction. Another connection of this process to the same file (two stores on
   * one file, as tests make) may hold the write lock with its own turn: waiting for it would block
   * the thread it needs to commit, so its turn is committed first.
   */
  private beginWrite(): void {
    for (const peer of this.peers) if (peer !== this) peer.commit();
    this.file.exec('BEGIN IMMEDIATE');
  }

  async execute(session: Session, query: CompiledQuery): Promise<QueryResult<unknown>> {
    while (this.owner && this.owner !== session) await this.ownerEnded;
    const statement = this.statements.get(query.sql);
    if (this.owner || (!this.turn && !writes(statement))) return run(statement, query.parameters);
    if (!this.turn) {
      this.beginWrite();
      this.turn = [];
      setImmediate(() => this.commit());
    }
    let result: QueryResult<unknown>;
    try {
      result = run(statement, query.parameters);
    } catch (err) {
      // Most failures undo only their own statement; some end the transaction, and with it the turn.
      if (!this.file.inTransaction) this.fail(err);
      throw err;
    }
    return new Promise((resolve, reject) => (this.turn as Waiting[]).push({ result, resolve, reject }));
  }

  /** Commits the turn's writes and tells each caller. */
  commit(): void {
    const turn = this.turn;
    if (!turn) return;
    this.turn = null;
    try {
      this.file.exec('COMMIT');
    } catch (err) {
      if (this.file.inTransaction) this.file.exec('ROLLBACK');
      for (const w of turn) w.reject(err);
      return;
    }
    for (const w of turn) w.resolve(w.result);
  }

  private fail(err: unknown): void {
    const turn = this.turn ?? [];
    this.turn = null;
    for (const w of turn) w.reject(err);
  }

  /** Commits what is waiting and leaves the file to other connections. */
  close(): void {
    this.commit();
    this.peers.delete(this);
  }

  async begin(session: Session): Promise<void> {
    while (this.owner) await this.ownerEnded;
    this.commit();
    this.owner = session;
    this.ownerEnded = new Promise((resolve) => (this.endOwner = resolve));
    this.beginWrite();
  }

  end(session: Session, sql: 'COMMIT' | 'ROLLBACK'): void {
    if (this.owner !== session) throw new Error('没有进行中的事务');
    try {
      if (this.file.inTransaction) this.file.exec(sql);
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
  private readonly commits: GroupCommit;

  constructor(
    private readonly file: Sqlite,
    peers: Set<GroupCommit>,
    /** Called once closed, so the registry of files can forget this one. */
    private readonly closed: () => void,
  ) {
    this.statements = new StatementCache(file);
    this.commits = new GroupCommit(file, this.statements, peers);
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
    this.commits.close();
    this.statements.clear();
    this.file.close();
    this.closed();
  }
}

/** Group commits of this process by database file. */
const byFile = new Map<string, Set<GroupCommit>>();

/**
 * Kysely's SQLite dialect (compiler, adapter, introspection) over the group-commit driver. `path`
 * names the file (absolute) so connections of this process to the same file know each other; null
 * for an in-memory database, which no other connection sees.
 */
export class GroupCommitSqliteDialect extends SqliteDialect {
  constructor(
    private readonly file: Sqlite,
    private readonly path: string | null,
  ) {
    super({ database: file });
  }

  override createDriver(): Driver {
    const { path } = this;
    const peers = (path === null ? undefined : byFile.get(path)) ?? new Set<GroupCommit>();
    if (path !== null) byFile.set(path, peers);
    return new GroupCommitDriver(this.file, peers, () => {
      if (path !== null && peers.size === 0) byFile.delete(path);
    });
  }
}
