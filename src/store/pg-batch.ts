import { createHash } from 'node:crypto';
import {
  CompiledQuery,
  PostgresDialect,
  type DatabaseConnection,
  type Driver,
  type QueryResult,
  type TransactionSettings,
} from 'kysely';
import pg from 'pg';

/** What a statement run on its own or in a batch gives back, as Kysely's own PostgreSQL driver reports it. */
function toQueryResult(result: pg.QueryResult): QueryResult<unknown> {
  const { command, rowCount, rows } = result;
  const changed = command === 'INSERT' || command === 'UPDATE' || command === 'DELETE' || command === 'MERGE';
  return { rows: rows ?? [], ...(changed ? { numAffectedRows: BigInt(rowCount ?? 0) } : {}) };
}

/** What waits for the end of the turn: one statement, or a unit of several that commit together or not at all. */
interface Queued {
  readonly statements: readonly CompiledQuery[];
  resolve(results: QueryResult<unknown>[]): void;
  reject(err: unknown): void;
}

/**
 * Runs one statement on the pool, with parameters. Statements with parameters are named prepared
 * statements, parsed and planned once per connection; those that select `*` stay unnamed, as a
 * migration adding a column would change their result type under a running instance ("cached plan
 * must not change result type").
 */
class Statements {
  private readonly names = new Map<string, string>();

  constructor(private readonly pool: pg.Pool) {}

  run(runner: pg.Pool | pg.PoolClient, query: CompiledQuery): Promise<QueryResult<unknown>> {
    const values = [...query.parameters];
    const config: pg.QueryConfig = values.length === 0 || query.sql.includes('*') ? { text: query.sql, values } : { name: this.nameOf(query.sql), text: query.sql, values };
    return runner.query(config).then(toQueryResult);
  }

  onPool(query: CompiledQuery): Promise<QueryResult<unknown>> {
    return this.run(this.pool, query);
  }

  private nameOf(text: string): string {
    let name = this.names.get(text);
    if (!name) this.names.set(text, (name = `chunfeng_${createHash('sha1').update(text).digest('hex').slice(0, 20)}`));
    return name;
  }
}

/**
 * Group commit for PostgreSQL: the statements asked for during one turn of the event loop travel
 * to the server together at the end of the turn (setImmediate), as one transaction in one round
 * trip, and each caller's promise settles once it has committed. Every statement on its own meant a
 * round trip and a commit each, eight per message, which made the database server's CPU and the
 * driver's the gateway's limit.
 *
 * The batch is pipelined (pg's `pipeline` mode, which the pool's clients are in): BEGIN, every
 * statement with its bound parameters (named prepared statements, parsed and planned once per
 * connection) and COMMIT are written to the connection before any answer is read. An earlier
 * version wrote the parameters into one text of many statements as escaped literals instead; on
 * bench/webhook.js that cost about a fifth more CPU in PostgreSQL (every statement parsed and
 * planned every time) and in the gateway (escaping), and its safety rested on the escaping being
 * right for every value. Bound parameters cannot be misread as SQL, whatever they hold.
 *
 * When the server refuses a batch (one statement's constraint, a deadlock with another instance),
 * it keeps none of it (the statements after the failing one answer "transaction aborted", COMMIT
 * rolls back); its entries then run again one by one, so the others go through and the failing one
 * gets its own error. A unit ({@link BatchingPostgresDialect.together}) is one entry of the batch
 * and, run again, one transaction of its own: its statements never take effect apart. Any other
 * failure (a timeout, a broken connection) leaves unknown whether the batch committed: every
 * statement of it is rejected, none is run again, and the connection is discarded. A turn of one
 * statement runs as it would alone.
 */
class Batches {
  private turn: Queued[] | null = null;
  /**
   * The batch on its way, if any. One at a time: two batches of this process in flight together
   * could each lock a row the other one wants next (a busy group's budget, the account's), a
   * deadlock PostgreSQL resolves only after a second. Statements asked for meanwhile join the next.
   */
  private running: Promise<void> = Promise.resolve();

  constructor(
    private readonly pool: pg.Pool,
    private readonly statements: Statements,
  ) {}

  add(query: CompiledQuery): Promise<QueryResult<unknown>> {
    return this.together([query]).then(([result]) => result as QueryResult<unknown>);
  }

  /** Queues `queries` as one unit. */
  together(queries: readonly CompiledQuery[]): Promise<QueryResult<unknown>[]> {
    if (!this.turn) {
      this.turn = [];
      setImmediate(() => void this.drain());
    }
    const turn = this.turn;
    return new Promise((resolve, reject) => turn.push({ statements: queries, resolve, reject }));
  }

  /** Sends what is waiting once the batch on its way is done; resolves when it has been answered. */
  drain(): Promise<void> {
    this.running = this.running.then(() => this.flush());
    return this.running;
  }

  /** Sends the turn and settles every statement of it; never rejects. */
  private async flush(): Promise<void> {
    const turn = this.turn;
    if (!turn) return;
    this.turn = null;
    if (turn.length === 1) return this.oneByOne(turn);
    let results: QueryResult<unknown>[];
    try {
      results = await this.transaction(turn.flatMap((q) => q.statements));
    } catch (err) {
      if (err instanceof pg.DatabaseError) return this.oneByOne(turn);
      for (const q of turn) q.reject(err);
      return;
    }
    let at = 0;
    for (const q of turn) {
      q.resolve(results.slice(at, at + q.statements.length));
      at += q.statements.length;
    }
  }

  /** Runs each entry on its own: a statement as it would run alone, a unit as its own transaction. */
  private async oneByOne(turn: readonly Queued[]): Promise<void> {
    await Promise.all(turn.map((q) => {
      const [only] = q.statements;
      const run = q.statements.length === 1 && only ? this.statements.onPool(only).then((r) => [r]) : this.transaction(q.statements);
      return run.then(q.resolve, q.reject);
    }));
  }

  /**
   * Runs the statements in one transaction on a client of their own, pipelined: one round trip. A
   * refusal by the server rejects with the DatabaseError of the first statement that failed (the
   * transaction is then rolled back by its COMMIT); any other failure discards the connection, as
   * whether it committed is unknown.
   */
  private async transaction(statements: readonly CompiledQuery[]): Promise<QueryResult<unknown>[]> {
    const client = await this.pool.connect();
    const answers = await Promise.allSettled([client.query('begin'), ...statements.map((q) => this.statements.run(client, q)), client.query('commit')]);
    const failed = answers.find((a): a is PromiseRejectedResult => a.status === 'rejected');
    if (failed && !(failed.reason instanceof pg.DatabaseError)) {
      client.release(failed.reason instanceof Error ? failed.reason : new Error(String(failed.reason)));
      throw failed.reason;
    }
    client.release();
    if (failed) throw failed.reason;
    return answers.slice(1, -1).map((a) => (a as PromiseFulfilledResult<QueryResult<unknown>>).value);
  }
}

/** What Kysely holds while it runs a query or a transaction: a pool client only during a transaction. */
class Session implements DatabaseConnection {
  client: pg.PoolClient | null = null;

  constructor(
    private readonly batches: Batches,
    private readonly statements: Statements,
  ) {}

  executeQuery<R>(query: CompiledQuery): Promise<QueryResult<R>> {
    return (this.client ? this.statements.run(this.client, query) : this.batches.add(query)) as Promise<QueryResult<R>>;
  }

  // eslint-disable-next-line require-yield
  async *streamQuery<R>(): AsyncIterableIterator<QueryResult<R>> {
    throw new Error('存储不支持流式查询');
  }
}

class BatchingDriver implements Driver {
  private readonly statements: Statements;
  readonly batches: Batches;

  constructor(private readonly pool: pg.Pool) {
    this.statements = new Statements(pool);
    this.batches = new Batches(pool, this.statements);
  }

  async init(): Promise<void> {}

  async acquireConnection(): Promise<DatabaseConnection> {
    return new Session(this.batches, this.statements);
  }

  async beginTransaction(connection: DatabaseConnection, settings: TransactionSettings): Promise<void> {
    const session = connection as Session;
    const client = await this.pool.connect();
    session.client = client;
    let begin = 'begin';
    if (settings.isolationLevel || settings.accessMode) {
      begin = ['start transaction', settings.isolationLevel ? `isolation level ${settings.isolationLevel}` : '', settings.accessMode ?? ''].filter(Boolean).join(' ');
    }
    try {
      await client.query(begin);
    } catch (err) {
      session.client = null;
      client.release(err as Error);
      throw err;
    }
  }

  async commitTransaction(connection: DatabaseConnection): Promise<void> {
    await this.end(connection as Session, 'commit');
  }

  async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    await this.end(connection as Session, 'rollback');
  }

  /**
   * Ends a transaction and gives its connection back. A commit that fails leaves the transaction
   * rolled back (PostgreSQL's doing) and the connection discarded; the rollback Kysely then asks
   * for has nothing left to do, so the commit's error is the one reported.
   */
  private async end(session: Session, sql: 'commit' | 'rollback'): Promise<void> {
    const client = session.client;
    if (!client) {
      if (sql === 'rollback') return;
      throw new Error('没有进行中的事务');
    }
    session.client = null;
    try {
      await client.query(sql);
      client.release();
    } catch (err) {
      client.release(err as Error);
      throw err;
    }
  }

  async releaseConnection(connection: DatabaseConnection): Promise<void> {
    const session = connection as Session;
    // A transaction Kysely left without commit or rollback (it does not): its connection is discarded.
    if (session.client) session.client.release(new Error('事务未结束'));
    session.client = null;
  }

  async destroy(): Promise<void> {
    await this.batches.drain();
    await this.pool.end();
  }
}

/** Kysely's PostgreSQL dialect (compiler, adapter, introspection) over the batching driver. */
export class BatchingPostgresDialect extends PostgresDialect {
  private readonly driver: BatchingDriver;

  constructor(pool: pg.Pool) {
    super({ pool });
    this.driver = new BatchingDriver(pool);
  }

  override createDriver(): Driver {
    return this.driver;
  }

  /**
   * Runs the statements as one unit with the turn's others: all of them take effect or none does;
   * resolves with each one's result once committed, rejects with the failure of the first that failed.
   */
  together(queries: readonly CompiledQuery[]): Promise<QueryResult<unknown>[]> {
    return this.driver.batches.together(queries);
  }
}
