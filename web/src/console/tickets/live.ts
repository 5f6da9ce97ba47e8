import { reactive } from 'vue';
import { session, tokenRefused } from '../session';

/**
 * Live updates of the tickets: server-sent events from GET /api/events, read with fetch rather than
 * EventSource because EventSource cannot send the Authorization header (a token in the URL would end
 * up in access logs and browser history). Reconnects by itself with a growing pause, and says when
 * the stream is down, so an agent knows the queue may be stale. Every event, and every reconnection
 * (events may have been missed meanwhile), tells the pages to fetch what they show again.
 */

/** Whether the stream is up: connecting at first, open while events flow, down between attempts. */
export type LiveState = 'connecting' | 'open' | 'down';

/** The connection's state, for the banner. */
export const live = reactive<{ state: LiveState }>({ state: 'connecting' });

/** What a page is told: the ticket an event concerns, or null for "anything may have changed" (a reconnection). */
export type LiveHandler = (ticketId: string | null) => void;

const handlers = new Set<LiveHandler>();
let controller: AbortController | null = null;
let retryTimer: ReturnType<typeof setTimeout> | undefined;
let failures = 0;

/** Pause before the next attempt: 1 s, 2 s, 4 s ... at most 15 s. */
function pause(): number {
  return Math.min(15_000, 1000 * 2 ** Math.min(failures, 4));
}

/** The ticket an event is about, whichever way its JSON names it; null when it names none. */
export function ticketOf(data: string): string | null {
  try {
    const value = JSON.parse(data) as Record<string, unknown> | null;
    const nested = value?.ticket;
    const id = typeof nested === 'object' && nested !== null ? (nested as Record<string, unknown>).id : (nested ?? value?.ticketId ?? value?.id);
    return typeof id === 'string' || typeof id === 'number' ? String(id) : null;
  } catch {
    return null;
  }
}

function notify(ticketId: string | null): void {
  for (const handler of handlers) handler(ticketId);
}

/** Reads one event stream until it ends; each complete event (a blank line) is passed on. */
async function read(body: ReadableStream<Uint8Array>): Promise<void> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  let name = 'message';
  let data: string[] = [];
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += decoder.decode(value, { stream: true });
    const lines = buffer.split(/\r\n|\r|\n/);
    buffer = lines.pop() ?? '';
    for (const line of lines) {
      if (line === '') {
        // `ready` only says the stream is up, which connect() has already told the pages.
        if (data.length > 0 && name !== 'ready') notify(ticketOf(data.join('\n')));
        name = 'message';
        data = [];
      } else if (line.startsWith('data:')) {
        data.push(line.slice(5).replace(/^ /, ''));
      } else if (line.startsWith('event:')) {
        name = line.slice(6).trim();
      }
      // Comments (": ping") keep the connection alive; any other event (`ticket`) means "look again".
    }
  }
}

async function connect(): Promise<void> {
  clearTimeout(retryTimer);
  if (!session.token || handlers.size === 0) return;
  controller?.abort();
  const mine = new AbortController();
  controller = mine;
  if (live.state !== 'down') live.state = 'connecting';
  try {
    const response = await fetch('/api/events', {
      headers: { accept: 'text/event-stream', authorization: `Bearer ${session.token}` },
      credentials: 'omit',
      cache: 'no-store',
      signal: mine.signal,
    });
    if (response.status === 401) {
      tokenRefused();
      return;
    }
    if (!response.ok || !response.body) throw new Error(`HTTP ${response.status}`);
    live.state = 'open';
    failures = 0;
    notify(null);
    await read(response.body);
  } catch {
    // Network gone, server restarted, or the page stopped listening (abort): handled below.
  }
  if (mine.signal.aborted || controller !== mine) return;
  live.state = 'down';
  failures++;
  retryTimer = setTimeout(() => void connect(), pause());
}

/**
 * Listens to ticket events while `handler` is registered; the stream opens with the first listener
 * and closes with the last. Returns the function that stops listening.
 */
export function listen(handler: LiveHandler): () => void {
  handlers.add(handler);
  if (handlers.size === 1) {
    failures = 0;
    live.state = 'connecting';
    void connect();
  }
  return () => {
    handlers.delete(handler);
    if (handlers.size === 0) {
      clearTimeout(retryTimer);
      controller?.abort();
      controller = null;
    }
  };
}

/**
 * A fetch that events may ask for in bursts: while one runs, further calls make it run once more
 * when it ends (never two at once, never a stale answer shown after a fresh one).
 */
export function coalesced(task: () => Promise<void>): () => Promise<void> {
  let running: Promise<void> | null = null;
  let again = false;
  const run = async (): Promise<void> => {
    if (running) {
      again = true;
      return running;
    }
    running = task().finally(() => {
      running = null;
      if (again) {
        again = false;
        void run();
      }
    });
    return running;
  };
  return run;
}
