import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';

const SERVER = fileURLToPath(new URL('./server.ts', import.meta.url));
const HOOKS = fileURLToPath(new URL('./register.mjs', import.meta.url));

/** A gateway process and where it listens. */
export interface GatewayProcess {
  readonly child: ChildProcess;
  readonly base: string;
}

/**
 * Starts the real server (server.ts) in a child process with `env` on top of this process's, and
 * resolves once its Telegram webhook takes updates (the index is loaded and the adapter runs).
 * Each child is added to `children`, for the suite to kill after each test.
 */
export async function startGateway(env: Record<string, string>, secret: string, children: ChildProcess[]): Promise<GatewayProcess> {
  const child = fork(SERVER, [], { execArgv: ['--import', HOOKS], env: { ...process.env, ...env, TELEGRAM_WEBHOOK_SECRET: secret }, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  children.push(child);
  const [message] = (await Promise.race([once(child, 'message'), once(child, 'exit').then(([code]) => Promise.reject(new Error(`gateway exited (${String(code)})`)))])) as [{ port: number }];
  const base = `http://127.0.0.1:${message.port}`;
  // Loading the index takes a few seconds, many more on a machine busy with other test files.
  const until = Date.now() + 60_000;
  for (;;) {
    const res = await fetch(`${base}/telegram/webhook`, {
      method: 'POST', headers: { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': secret }, body: JSON.stringify({ update_id: 0 }),
    });
    if (res.status === 200) return { child, base };
    if (Date.now() > until) throw new Error(`gateway not ready: ${res.status}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Kills every child still running (SIGKILL) and empties the list. */
export function killAll(children: ChildProcess[]): void {
  for (const child of children.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
}
