import { CompiledQuery, type Compilable, type Kysely, type QueryResult } from 'kysely';

/** Marks an argument's place among a compiled query's parameters; no real value starts with it. */
const MARK = '\u0000chunfeng-arg:';

/** A query of fixed shape, compiled once, run with new argument values. */
export interface PreparedQuery<A, R> {
  execute(args: A): Promise<QueryResult<R>>;
  /** The compiled statement with these values, to run with others as a unit (`Together`). */
  compile(args: A): CompiledQuery<R>;
}

/**
 * Compiles the query that `build` makes once and runs the compiled SQL with each call's values.
 * Building and compiling a Kysely query cost up to four times what SQLite takes to run it, on every
 * message, for the same few queries. `build` gets stand-ins for its arguments; each must be used as
 * a value (a column value, the right side of a comparison), never to decide the query's shape,
 * which is checked here: a stand-in that is not a parameter of the compiled query, or shows up in
 * its SQL text, throws at once.
 */
export function prepare<DB, A extends Record<string, unknown>, R>(db: Kysely<DB>, build: (args: A) => Compilable<R>): PreparedQuery<A, R> {
  const used = new Set<string>();
  const standIns = new Proxy({} as A, {
    get(_target, name) {
      if (typeof name !== 'string') throw new TypeError('参数名应为字符串');
      used.add(name);
      return `${MARK}${name}`;
    },
  });
  const compiled = build(standIns).compile();
  if (compiled.sql.includes(MARK)) throw new Error(`预编译查询的参数不能出现在 SQL 文本中：${compiled.sql}`);
  const slots = compiled.parameters.map((p) => (typeof p === 'string' && p.startsWith(MARK) ? p.slice(MARK.length) : null));
  for (const name of used) if (!slots.includes(name)) throw new Error(`预编译查询的参数 ${name} 没有用作值`);
  const compile = (args: A): CompiledQuery<R> => {
    const parameters = compiled.parameters.map((p, i) => {
      const name = slots[i];
      return name === null || name === undefined ? p : args[name];
    });
    return CompiledQuery.raw(compiled.sql, parameters) as CompiledQuery<R>;
  };
  return {
    compile,
    execute: (args) => db.executeQuery(compile(args)),
  };
}
