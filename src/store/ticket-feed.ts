import { EventEmitter } from 'node:events';
import pg from 'pg';

/**
 * Who hears that a ticket changed. On PostgreSQL every insert into ticket_events or ticket_messages
 * notifies `chunfeng_tickets` (a trigger, delivered at commit), so every instance on the database
 * hears every change, its own included; a listening connection is opened on the first subscriber.
 * On SQLite (one process) the repositories tell the feed after committing.
 */
export interface TicketFeed {
  /** Calls `listener` with the id of each changed ticket; returns the unsubscribe. */
  subscribe(listener: (ticketId: string) => void): () => void;
  /** Tickets a unit of this process has changed (heard from the database on PostgreSQL, so ignored there). */
  committed(ids: readonly string[]): void;
  /** Resolves once changes are being heard (the LISTEN is in place on PostgreSQL). */
  listening(): Promise<void>;
  close(): Promise<void>;
}

/** The feed of a SQLite store. */
export function localFeed(): TicketFeed {
  const emitter = new EventEmitter();
  emitter.setMaxListeners(0);
  return {
    subscribe(listener) {
      emitter.on('ticket', listener);
      return () => emitter.off('ticket', listener);
    },
    committed(ids) {
      for (const id of ids) emitter.emit('ticket', id);
    },
    listening: () => Promise.resolve(),
    async close() {
      emitter.removeAllListeners();
    },
  };
}

/** How long a lost listening connection waits before it is opened again. */
const RECONNECT_MS = 1_000;

/**
 * The feed of a PostgreSQL store: LISTEN on a connection of its own, kept while anyone subscribes.
 * Notifications name the schema, so stores of other schemas in the same database are not heard.
 */
export function postgresFeed(databaseUrl: string, onError: (err: Error) => void = () => undefined): TicketFeed {
  const emitter = new EventEmitter();
  emitter.setMaxListeners(0);
  let client: pg.Client | null = null;
  let closed = false;
  let retry: NodeJS.Timeout | null = null;
  let heard: Promise<void> = Promise.resolve();
  let markHeard: () => void = () => undefined;

  const connect = (): void => {
    if (closed || client || emitter.listenerCount('ticket') === 0) return;
    heard = new Promise((resolve) => {
      markHeard = resolve;
    });
    const c = new pg.Client({ connectionString: databaseUrl, application_name: 'chunfeng-feed' });
    client = c;
    let schema: string | null = null;
    const lost = (err: Error): void => {
      onError(err);
      if (client !== c) return;
      client = null;
      void c.end().catch(() => undefined);
      retry = setTimeout(() => {
        retry = null;
        connect();
      }, RECONNECT_MS);
      retry.unref();
    };
    c.on('error', lost);
    c.on('notification', (n) => {
      const [from, id] = (n.payload ?? '').split(' ');
      if (id && from === schema) emitter.emit('ticket', id);
    });
    c.connect()
      .then(() => c.query<{ schema: string }>('select current_schema() as schema'))
      .then(async (r) => {
        schema = r.rows[0]?.schema ?? null;
        await c.query('listen chunfeng_tickets');
        markHeard();
      })
      .catch(lost);
  };

  return {
    subscribe(listener) {
      emitter.on('ticket', listener);
      connect();
      return () => {
        emitter.off('ticket', listener);
        if (emitter.listenerCount('ticket') === 0 && client) {
          const c = client;
          client = null;
          void c.end().catch(() => undefined);
        }
      };
    },
    committed() {},
    listening: () => heard,
    async close() {
      closed = true;
      if (retry) clearTimeout(retry);
      emitter.removeAllListeners();
      const c = client;
      client = null;
      await c?.end().catch(() => undefined);
    },
  };
}
