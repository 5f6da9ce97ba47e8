// Escalation: the real server (webhook mode) in a child process on 127.0.0.1, a fake Telegram Bot API
// and an open console stream (GET /api/events) in this process. Two figures per database, each over
// ESCALATION_COUNT requests one after the other:
//   转人工 → queue: from posting a 转人工 update to the webhook until the new ticket arrives on the
//   event stream (what an open console shows);
//   reply → chat: from posting an agent's reply (POST /api/tickets/:id/reply) until the fake Bot API
//   receives its sendMessage.
// SQLite always; PostgreSQL too when BENCH_DATABASE_URL is set (a fresh schema, dropped afterwards).
//
//   npx tsc -p tsconfig.build.json && node bench/escalation.js
//   BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test node bench/escalation.js
import { Buffer } from 'node:buffer';
import { fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { KNOWLEDGE_DIR, latencyStats, machineLine, ms, postgresSchema, printTable, requireInputs, sharedCacheDir, summary, verdict } from './lib.js';

const SELF = fileURLToPath(import.meta.url);
const TOKEN = '123456:BENCH-token';
const SECRET = 'bench-webhook-secret';
const ADMIN = `bench-${randomBytes(12).toString('hex')}`;
const BOT = { id: 7_000_001, is_bot: true, first_name: '春风税务助手', username: 'chunfeng_bot' };
const USER_BASE = 200_000_000;
const COUNT = Math.max(10, Math.min(1000, Number(process.env.ESCALATION_COUNT ?? 200) || 200));
const TARGET_MS = 200;
/** Pause before each agent reply. */
const REPLY_GAP_MS = 50;
/** Longest wait for one event before the run is called failed. */
const WAIT_MS = 10_000;

const { fetch } = globalThis;

if (process.argv[2] === '--server') await serverMain();
else await main();

// ------------------------------------------------------------------------------------------------
// The server under test (child process)

async function serverMain() {
  const { default: Fastify } = await import('fastify');
  const { default: app } = await import('../dist/app.js');
  const { loadConfig } = await import('../dist/config.js');
  const { BODY_LIMIT } = await import('../dist/server.js');
  const config = loadConfig(process.env);
  const fastify = Fastify({ logger: { level: config.logLevel }, bodyLimit: BODY_LIMIT });
  await fastify.register(app, { config });
  await fastify.listen({ host: '127.0.0.1', port: 0 });
  process.on('message', async (msg) => {
    if (msg.type === 'close') {
      await fastify.close();
      process.send({ type: 'closed' }, () => process.exit(0));
    }
  });
  process.send({ type: 'listening', port: fastify.server.address().port });
}

// ------------------------------------------------------------------------------------------------
// This process: a fake Bot API, the console's stream, the load

/** The fake Bot API: resolves a waiter when a sendMessage whose text contains its marker arrives. */
function startFakeBotApi() {
  const waiters = new Map();
  let nextMessageId = 1;
  let sent = 0;
  const server = createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const at = performance.now();
      const method = /\/bot[^/]+\/(\w+)$/.exec(req.url ?? '')?.[1] ?? '';
      const params = chunks.length ? JSON.parse(Buffer.concat(chunks).toString('utf8')) : {};
      let result = true;
      if (method === 'getMe') result = BOT;
      else if (method === 'sendMessage') {
        sent += 1;
        for (const [marker, resolve] of waiters) {
          if (String(params.text).includes(marker)) {
            waiters.delete(marker);
            resolve(at);
          }
        }
        result = { message_id: nextMessageId++, from: BOT, chat: { id: Number(params.chat_id), type: 'private' }, date: Math.floor(Date.now() / 1000), text: params.text };
      }
      const body = JSON.stringify({ ok: true, result });
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
      res.end(body);
    });
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => resolve({
      apiRoot: `http://127.0.0.1:${server.address().port}`,
      /** Resolves with the time a message containing `marker` reaches the fake. */
      arrival: (marker) => new Promise((r) => waiters.set(marker, r)),
      /** How many sendMessage calls have arrived. */
      sent: () => sent,
      close: () => new Promise((r) => {
        server.close(() => r());
        server.closeAllConnections();
      }),
    }));
  });
}

/** The console's event stream: resolves waiters for a ticket's first event in a state. */
function openStream(port) {
  const waiters = [];
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path: `/api/events?token=${ADMIN}` }, (res) => {
      if (res.statusCode !== 200) return reject(new Error(`/api/events ${res.statusCode}`));
      let buffer = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => {
        const at = performance.now();
        buffer += chunk;
        let end;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const data = /^data: (.+)$/m.exec(block)?.[1];
          if (/^event: ready$/m.test(block)) resolve({ next, close: () => req.destroy() });
          if (!/^event: ticket$/m.test(block) || !data) continue;
          const ticket = JSON.parse(data);
          for (const [i, w] of waiters.entries()) {
            if (w.test(ticket)) {
              waiters.splice(i, 1);
              w.resolve({ at, ticket });
              break;
            }
          }
        }
      });
      res.on('error', () => undefined);
    });
    req.on('error', reject);
    req.end();
    /** The next event for which `test` holds. */
    function next(test) {
      return new Promise((r) => waiters.push({ test, resolve: r }));
    }
  });
}

/** `promise`, or a failure naming `what` after WAIT_MS. */
function within(promise, what) {
  return Promise.race([promise, sleep(WAIT_MS).then(() => Promise.reject(new Error(`${WAIT_MS} ms 内没有等到${what}`)))]);
}

async function sqliteTarget() {
  const dir = mkdtempSync(join(tmpdir(), 'chunfeng-bench-escalation-'));
  return { label: 'SQLite', url: `sqlite:${join(dir, 'chunfeng.db')}`, cleanup: async () => rmSync(dir, { recursive: true, force: true }) };
}

async function postgresTarget(base) {
  const { url, drop } = await postgresSchema(base);
  return { label: 'PostgreSQL', url: url.toString(), cleanup: drop };
}

async function startServer(dbUrl, fake) {
  const child = fork(SELF, ['--server'], {
    env: {
      ...process.env, DATABASE_URL: dbUrl, KNOWLEDGE_DIR, DATA_DIR: sharedCacheDir('webhook-data'), LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
      ADMIN_TOKEN: ADMIN, TELEGRAM_BOT_TOKEN: TOKEN, TELEGRAM_API_ROOT: fake.apiRoot, TELEGRAM_WEBHOOK_SECRET: SECRET, WECHAT_PUPPET: '',
    },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const [msg] = await Promise.race([once(child, 'message'), once(child, 'exit').then(([code]) => Promise.reject(new Error(`服务进程退出（${code}）`)))]);
  const base = `http://127.0.0.1:${msg.port}`;
  const post = (path, body, headers = {}) => fetch(`${base}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  // The webhook answers 503 until the index is loaded and the adapter has started.
  while ((await fetch(`${base}/readyz`)).status !== 200) await sleep(50);
  for (;;) {
    const res = await post('/telegram/webhook', { update_id: 0 }, { 'x-telegram-bot-api-secret-token': SECRET });
    if (res.status === 200) break;
    await sleep(50);
  }
  return {
    port: msg.port,
    update: (body) => post('/telegram/webhook', body, { 'x-telegram-bot-api-secret-token': SECRET }),
    api: (path, body) => post(path, body, { authorization: `Bearer ${ADMIN}` }),
    close: async () => {
      child.send({ type: 'close' });
      await once(child, 'exit');
    },
  };
}

function update(id, text) {
  const user = { id: USER_BASE + id, is_bot: false, first_name: '纳税人', last_name: String(id) };
  return { update_id: id, message: { message_id: id, date: Math.floor(Date.now() / 1000), chat: { id: user.id, type: 'private', first_name: user.first_name }, from: user, text } };
}

async function measure(db, fake) {
  const server = await startServer(db.url, fake);
  const sentBefore = fake.sent();
  const stream = await openStream(server.port);
  const opened = [];
  const replied = [];
  try {
    for (let i = 1; i <= COUNT; i++) {
      const seen = stream.next((t) => t.state === 'registered' && !opened.some((o) => o.id === t.id));
      const started = performance.now();
      const res = await server.update(update(i, '转人工'));
      if (res.status !== 200) throw new Error(`webhook ${res.status}`);
      const { at, ticket } = await within(seen, '新工单的推送');
      opened.push({ id: ticket.id, ms: at - started });
    }
    // The bot's confirmations go out at Telegram's pace (30 a second per bot, the default budget):
    // let them all arrive, and a second more for each private chat's own pace of one a second, so
    // that a reply is not measured queueing behind them.
    for (const until = Date.now() + WAIT_MS + COUNT * 50; fake.sent() - sentBefore < COUNT;) {
      if (Date.now() > until) throw new Error(`只收到 ${fake.sent() - sentBefore} 条开单确认`);
      await sleep(REPLY_GAP_MS);
    }
    await sleep(1_000);
    for (const [i, { id }] of opened.entries()) {
      // Below the bot's 30 sends a second, so the budget is not what is measured (agents do not type that fast).
      await sleep(REPLY_GAP_MS);
      const claim = await server.api(`/api/tickets/${id}/claim`, {});
      if (claim.status !== 200) throw new Error(`claim ${claim.status}`);
      const marker = `#${i + 1}#`;
      const arrived = fake.arrival(marker);
      const started = performance.now();
      const res = await server.api(`/api/tickets/${id}/reply`, { text: `您好，已收到您的问题 ${marker}` });
      if (res.status !== 200) throw new Error(`reply ${res.status}`);
      replied.push((await within(arrived, '回复到达 Bot API')) - started);
    }
  } finally {
    stream.close();
    await server.close();
  }
  return { open: latencyStats(opened.map((o) => o.ms)), reply: latencyStats(replied) };
}

async function main() {
  requireInputs();
  console.log(`${machineLine()}\n转人工与坐席回复，各 ${COUNT} 次，依次进行\n`);
  const targets = [sqliteTarget];
  if (process.env.BENCH_DATABASE_URL) targets.push(() => postgresTarget(process.env.BENCH_DATABASE_URL));
  else console.log('（未设 BENCH_DATABASE_URL：只测 SQLite）\n');
  const fake = await startFakeBotApi();
  const rows = [];
  const items = [];
  try {
    for (const make of targets) {
      const db = await make();
      try {
        const r = await measure(db, fake);
        for (const [name, s] of [['转人工 → 控制台推送', r.open], ['坐席回复 → Bot API', r.reply]]) {
          rows.push([`${db.label}，${name}`, ms(s.p50), ms(s.p99), ms(s.max), verdict(s.p99, TARGET_MS, `p99 < ${TARGET_MS} ms`)]);
          items.push({ label: `转人工 ${db.label} ${name} p50/p99`, value: `${ms(s.p50)} / ${ms(s.p99)}`, target: `< ${TARGET_MS} ms`, ok: s.p99 < TARGET_MS });
        }
      } finally {
        await db.cleanup();
      }
    }
  } finally {
    await fake.close();
  }
  printTable(['数据库，环节', 'p50', 'p99', 'max', ''], rows);
  console.log('\n转人工 → 控制台推送：向 Webhook 发出“转人工”更新，到 GET /api/events 推送出这张新工单；坐席回复 → Bot API：POST /api/tickets/:id/reply 发出，到假 Bot API 收到 sendMessage。');
  summary('escalation', items);
}
