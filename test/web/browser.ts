import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, expect } from 'vitest';
import { WEB_ROOT } from '../../src/routes/web.js';
import { build } from '../helpers/build.js';
import { ROOT } from '../helpers/knowledge.js';

/** Debian's chromium (`apt-get install -y chromium`; .ci/run installs it). Playwright's own browser download is never used. */
export const CHROMIUM = '/usr/bin/chromium';
export const HAS_CHROMIUM = existsSync(CHROMIUM);
/** Appended to the suite's name, so a skipped run says why and how to fix it. */
export const CHROMIUM_NOTE = HAS_CHROMIUM ? '' : ` (skipped: ${CHROMIUM} not found; apt-get install -y chromium)`;

/** Screenshots for a person to look at; ignored by git. */
export const ARTIFACTS = join(ROOT, 'test', 'artifacts');

/** Newest modification time of the files under `dir`. */
function newest(dir: string): number {
  return Math.max(0, ...readdirSync(dir, { withFileTypes: true }).map((d) => (d.isDirectory() ? newest(join(dir, d.name)) : statSync(join(dir, d.name)).mtimeMs)));
}

/** Builds web/ into dist/web unless the build is newer than every file of web/ (about two seconds). */
export function buildWebIfStale(): void {
  const built = existsSync(join(WEB_ROOT, 'index.html')) ? statSync(join(WEB_ROOT, 'index.html')).mtimeMs : 0;
  if (built > newest(join(ROOT, 'web'))) return;
  try {
    execFileSync(process.execPath, [join(ROOT, 'node_modules', 'vite', 'bin', 'vite.js'), 'build', '--config', 'web/vite.config.ts', '--logLevel', 'error'], { cwd: ROOT, stdio: 'pipe' });
  } catch (err) {
    const out = err as { stdout?: Buffer; stderr?: Buffer };
    throw new Error(`npm run build:web failed:\n${out.stdout?.toString() ?? ''}${out.stderr?.toString() ?? ''}`);
  }
}

/** The real app listening on 127.0.0.1 at a random port, on a SQLite file of its own. */
export interface RunningApp {
  readonly app: FastifyInstance;
  readonly url: string;
  close(): Promise<void>;
}

/** Starts the real app (real index, real pages; test/helpers/build.ts) listening, with `env` on top of the test defaults. */
export async function startApp(env: Record<string, string> = {}): Promise<RunningApp> {
  const app = await build({ env });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  if (address === null || typeof address === 'string') throw new Error('no TCP address');
  return { app, url: `http://127.0.0.1:${address.port}`, close: () => app.close() };
}

/**
 * Debian's chromium, headless, with the flags this machine needs (stack notes): no sandbox as
 * root, and none of the background connections the closed network would refuse. Playwright gives
 * each launch a fresh, empty profile folder of its own.
 */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-sync'],
    timeout: 30_000,
  });
}

/** A page and what it did that a person would not want: dialogs it opened, errors it logged (CSP refusals among them). */
export interface WatchedPage {
  readonly page: Page;
  readonly context: BrowserContext;
  readonly dialogs: string[];
  readonly errors: string[];
  /** Saves a full-page screenshot as test/artifacts/NAME.png. */
  shot(name: string): Promise<void>;
}

/** A new browser context (zh-CN, a desktop window) and page, watched for dialogs and console errors. */
export async function openPage(browser: Browser): Promise<WatchedPage> {
  const context = await browser.newContext({ locale: 'zh-CN', timezoneId: 'Asia/Shanghai', viewport: { width: 1280, height: 800 } });
  context.setDefaultTimeout(10_000);
  const page = await context.newPage();
  const dialogs: string[] = [];
  const errors: string[] = [];
  page.on('dialog', (dialog) => {
    dialogs.push(`${dialog.type()}: ${dialog.message()}`);
    void dialog.dismiss();
  });
  page.on('console', (message) => {
    // A refused request (401 on a wrong token, 429) is logged by the browser as an error too: those are answers the pages handle.
    if (message.type() === 'error' && !message.text().startsWith('Failed to load resource')) errors.push(message.text());
  });
  page.on('pageerror', (err) => errors.push(err.message));
  mkdirSync(ARTIFACTS, { recursive: true });
  return {
    page,
    context,
    dialogs,
    errors,
    async shot(name) {
      // Transitions finished at once: a dialog half faded in or out tells a reader nothing.
      await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true, animations: 'disabled' });
    },
  };
}

/** Calls the app's API as a script would: a bearer token, a JSON body; the status and the JSON answer. */
export async function callApi(app: RunningApp, method: 'GET' | 'POST', path: string, token: string, body?: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(`${app.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

/** What a browser suite gets: the running app, and pages opened on it. */
export interface BrowserSuite {
  /** The app the suite's pages talk to. */
  server(): RunningApp;
  /** A new watched page (a fresh context) at `path` of `on` (the suite's app by default). */
  open(path: string, on?: RunningApp): Promise<WatchedPage>;
}

/**
 * Registers a browser suite's hooks: the pages built if stale, the app started with `env` (or what
 * `env()` answers once the suite's earlier beforeAll hooks have run: a fake Bot API's address) and
 * chromium launched (together), both closed at the end; after each test, the pages it opened must
 * have opened no dialog and logged no error (a CSP refusal would be one), and are closed.
 */
export function browserSuite(env: Record<string, string> | (() => Record<string, string>) = {}): BrowserSuite {
  let server: RunningApp | undefined;
  let browser: Browser | undefined;
  const opened: WatchedPage[] = [];
  beforeAll(async () => {
    buildWebIfStale();
    [server, browser] = await Promise.all([startApp(typeof env === 'function' ? env() : env), launchChromium()]);
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });
  afterEach(async () => {
    const pages = opened.splice(0);
    for (const w of pages) {
      expect(w.dialogs).toEqual([]);
      expect(w.errors).toEqual([]);
    }
    await Promise.all(pages.map((w) => w.context.close()));
  });
  return {
    server: () => server as RunningApp,
    async open(path, on = server as RunningApp) {
      const watched = await openPage(browser as Browser);
      opened.push(watched);
      await watched.page.goto(`${on.url}${path}`);
      return watched;
    },
  };
}
