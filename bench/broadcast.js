// Broadcast of one notice to BENCH_RECIPIENTS (10,000) Telegram chats against a fake Bot API that
// enforces Telegram's 30 messages a second per bot (a sliding second: the 31st send within any
// second is answered 429 with retry_after 1), with the gateway at its default limits. While the
// notice goes out, a question arrives on the webhook every 250 ms from a new user; its wait is from
// the webhook request to the fake receiving the answer. Three runs:
//   1. SQLite, one gateway;
//   2. SQLite, the gateway killed with SIGKILL at a (seeded) random moment and started again;
//   3. PostgreSQL (BENCH_DATABASE_URL), two gateways sharing the database and the broadcast.
// Figures: achieved rate (accepted sends per second from the first notice to the last, questions'
// answers included, since they share the bot's limit) against 95% of the limit; 429s after the
// first second; recipients reached twice (duplicates) and never (losses); the questions' wait p50/p99.
//
//   npx tsc -p tsconfig.build.json && node bench/broadcast.js
//   BENCH_RECIPIENTS=2000 BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test node bench/broadcast.js
import { Buffer } from 'node:buffer';
import { fork } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { KNOWLEDGE_DIR, latencyStats, machineLine, ms, postgresSchema, printTable, random, sharedCacheDir, summary } from './lib.js';

const SELF = fileURLToPath(import.meta.url);
const TOKEN = '123456:BENCH-broadcast';
const SECRET = 'bench-broadcast-secret';
const ADMIN = 'bench-broadcast-admin-token';
const BOT = { id: 7_000_001, is_bot: true, first_name: '春风税务助手', username: 'chunfeng_bot' };
const LIMIT = 30;
const RECIPIENTS = Math.max(100, Number(process.env.BENCH_RECIPIENTS ?? 10_000) || 10_000);
const CHAT_BASE = 700_000_000;
const ASKER_BASE = 600_000_000;
const QUESTION_EVERY_MS = 250;
const { fetch } = globalThis;
const now = () => performance.timeOrigin + performance.now();

// ------------------------------------------------------------------------------------------------
// The gateway (child process): the real server as `chunfeng serve` builds it, default limits.

async function serverMain() {
  const { loadConfig } = await import('../dist/config.js');
  const { buildServer } = await import('../dist/server.js');
  const fastify = await buildServer(loadConfig(process.env), { noticeJob: { everyMs: 1_000 } }, false);
  await fastify.listen({ host: '127.0.0.1', port: 0 });
  process.on('message', async (msg) => {
    if (msg.type === 'close') {
      await fastify.close();
      process.send({ type: 'closed' }, () => process.exit(0));
    }
  });
  process.send({ type: 'listening', port: fastify.server.address().port });
}

async function startServer(url, fake) {
  const child = fork(SELF, ['--server'], {
    env: {
      ...process.env, DATABASE_URL: url, KNOWLEDGE_DIR, DATA_DIR: sharedCacheDir('broadcast-data'), LOG_LEVEL: 'error', ADMIN_TOKEN: ADMIN,
      TELEGRAM_BOT_TOKEN: TOKEN, TELEGRAM_API_ROOT: fake.apiRoot, TELEGRAM_WEBHOOK_SECRET: SECRET,
    },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const [msg] = await once(child, 'message');
  const base = `http://127.0.0.1:${msg.port}`;
  for (const until = Date.now() + 120_000; ;) {
    const res = await fetch(`${base}/telegram/webhook`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': SECRET }, body: '{"update_id":0}' });
    if (res.status === 200) break;
    if (Date.now() > until) throw new Error(`网关未就绪：${res.status}`);
    await sleep(100);
  }
  return {
    child, base,
    close: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.send({ type: 'close' });
      await once(child, 'exit');
    },
  };
}

// ------------------------------------------------------------------------------------------------
// The fake Bot API: Telegram's 30 a second per bot over a sliding second.

function startFakeBotApi() {
  const state = { accepted: [], refusedAt: [], notices: new Map(), answers: new Map(), nextMessageId: 1 };
  const server = createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const at = now();
      const method = /\/bot[^/]+\/(\w+)$/.exec(req.url ?? '')?.[1] ?? '';
      const params = chunks.length ? JSON.parse(Buffer.concat(chunks).toString('utf8')) : {};
      let status = 200;
      let body;
      if (method === 'sendMessage') {
        while (state.accepted.length > 0 && state.accepted[0] <= at - 1000) state.accepted.shift();
        if (state.accepted.length >= LIMIT) {
          state.refusedAt.push(at);
          status = 429;
          body = { ok: false, error_code: 429, description: 'Too Many Requests: retry after 1', parameters: { retry_after: 1 } };
        } else {
          state.accepted.push(at);
          const chatId = Number(params.chat_id);
          const book = chatId >= CHAT_BASE ? state.notices : state.answers;
          const times = book.get(chatId) ?? [];
          times.push(at);
          book.set(chatId, times);
          body = { ok: true, result: { message_id: state.nextMessageId++, from: BOT, chat: { id: chatId, type: 'private' }, date: Math.floor(Date.now() / 1000), text: params.text } };
        }
      } else if (method === 'getMe') body = { ok: true, result: BOT };
      else body = { ok: true, result: true };
      const text = JSON.stringify(body);
      res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
      res.end(text);
    });
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => resolve({
      apiRoot: `http://127.0.0.1:${server.address().port}`,
      state,
      reset() {
        state.accepted = [];
        state.refusedAt = [];
        state.notices = new Map();
        state.answers = new Map();
      },
      close: () => new Promise((r) => {
        server.close(() => r());
        server.closeAllConnections();
      }),
    }));
  });
}

// ------------------------------------------------------------------------------------------------
// Databases and the notice

const USCC_CHARS = '0123456789ABCDEFGHJKLMNPQRTUWXY';
const USCC_WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28];
/** A unified social credit code with a valid check character (the import checks it). */
function uscc(n) {
  const body = `91370102MA${String(n).padStart(7, '0')}`;
  let sum = 0;
  for (let i = 0; i < 17; i++) sum += USCC_CHARS.indexOf(body[i]) * USCC_WEIGHTS[i];
  return body + USCC_CHARS[(31 - (sum % 31)) % 31];
}

async function sqliteTarget() {
  const dir = mkdtempSync(join(tmpdir(), 'chunfeng-bench-broadcast-'));
  return { label: 'SQLite', url: `sqlite:${join(dir, 'chunfeng.db')}`, cleanup: async () => rmSync(dir, { recursive: true, force: true }) };
}

async function postgresTarget(base) {
  const { url, drop } = await postgresSchema(base);
  return { label: 'PostgreSQL', url: url.toString(), cleanup: drop };
}

/** Imports RECIPIENTS profiles, each with one private chat, and saves a notice to all of them; returns its id. */
async function seed(url) {
  const { openStore } = await import('../dist/store/index.js');
  const { importJson } = await import('../dist/notices/import.js');
  const store = await openStore(url);
  try {
    for (let i = 0; i < RECIPIENTS; i += 1000) {
      const part = Array.from({ length: Math.min(1000, RECIPIENTS - i) }, (_, j) => ({
        taxpayerId: uscc(i + j), name: `企业${i + j}`, taxpayerType: '一般纳税人', office: `第${'一二三四五'[(i + j) % 5]}分局`,
        chats: [{ channel: 'telegram', chatId: String(CHAT_BASE + i + j) }],
      }));
      const report = await importJson(store.subscribers, part);
      if (report.errors.length > 0) throw new Error(`导入失败：${JSON.stringify(report.errors[0])}`);
    }
    const notice = await store.notices.create({ title: '增值税留抵退税政策提醒', text: '符合条件的纳税人请及时通过电子税务局申请留抵退税。', audience: {}, topics: [], reminders: [], items: [] }, RECIPIENTS, null);
    return notice.id;
  } finally {
    await store.close();
  }
}

async function send(server, id) {
  const res = await fetch(`${server.base}/api/notices/${id}/send`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN}` } });
  if (res.status !== 202) throw new Error(`发送失败：${res.status} ${await res.text()}`);
}

// ------------------------------------------------------------------------------------------------
// A run

/**
 * Asks a question every QUESTION_EVERY_MS on the webhook of one of `servers` (in turn) until
 * `done()`; resolves with the waits (ms) from each question to its answer at the fake.
 */
async function askWhile(servers, fake, done) {
  const asked = [];
  let n = 0;
  while (!done()) {
    const server = servers[n % servers.length]();
    const chat = ASKER_BASE + n;
    const update = { update_id: 1_000_000 + n, message: { message_id: 1, date: Math.floor(Date.now() / 1000), chat: { id: chat, type: 'private', first_name: '问' }, from: { id: chat, is_bot: false, first_name: '问' }, text: '个体户注销要办什么手续' } };
    const at = now();
    asked.push({ chat, at });
    fetch(`${server.base}/telegram/webhook`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': SECRET }, body: JSON.stringify(update) }).catch(() => undefined);
    n++;
    await sleep(QUESTION_EVERY_MS);
  }
  await sleep(3_000);
  return asked.map((q) => (fake.state.answers.get(q.chat)?.[0] ?? Number.NaN) - q.at);
}

/** The figures of a finished broadcast. */
function figures(fake, waits) {
  const firsts = [...fake.state.notices.values()].map((t) => t[0]);
  const lasts = [...fake.state.notices.values()].map((t) => t[t.length - 1]);
  const start = Math.min(...firsts);
  const end = Math.max(...lasts);
  const sends = [...fake.state.notices.values(), ...fake.state.answers.values()].flat().filter((t) => t >= start && t <= end).length;
  const reached = fake.state.notices.size;
  const duplicates = [...fake.state.notices.values()].reduce((s, t) => s + t.length - 1, 0);
  const answered = waits.filter(Number.isFinite);
  return {
    seconds: (end - start) / 1000,
    rate: sends / ((end - start) / 1000),
    refusedSteady: fake.state.refusedAt.filter((t) => t > start + 1000).length,
    refused: fake.state.refusedAt.length,
    duplicates,
    losses: RECIPIENTS - reached,
    asked: waits.length,
    answered: answered.length,
    wait: latencyStats(answered),
  };
}

async function waitForAll(fake, timeoutMs) {
  for (const until = Date.now() + timeoutMs; fake.state.notices.size < RECIPIENTS && Date.now() < until;) await sleep(200);
}

async function runPlain(fake) {
  const db = await sqliteTarget();
  try {
    const id = await seed(db.url);
    const server = await startServer(db.url, fake);
    try {
      fake.reset();
      await send(server, id);
      let finished = false;
      const asking = askWhile([() => server], fake, () => finished);
      await waitForAll(fake, (RECIPIENTS / LIMIT) * 3_000 + 60_000);
      finished = true;
      return figures(fake, await asking);
    } finally {
      await server.close();
    }
  } finally {
    await db.cleanup();
  }
}

async function runKilled(fake) {
  const db = await sqliteTarget();
  try {
    const id = await seed(db.url);
    let server = await startServer(db.url, fake);
    try {
      fake.reset();
      await send(server, id);
      // Somewhere between a fifth and four fifths of the way.
      const at = Math.round(RECIPIENTS * (0.2 + 0.6 * random(9)()));
      while (fake.state.notices.size < at) await sleep(20);
      server.child.kill('SIGKILL');
      await once(server.child, 'exit');
      const killedAfter = fake.state.notices.size;
      server = await startServer(db.url, fake);
      await waitForAll(fake, (RECIPIENTS / LIMIT) * 3_000 + 120_000);
      // A claim the dead process held lapses after 15 s and is sent again: wait for that too.
      await sleep(16_000);
      return { ...figures(fake, []), killedAfter };
    } finally {
      await server.close();
    }
  } finally {
    await db.cleanup();
  }
}

async function runTwo(fake, pgUrl) {
  const db = await postgresTarget(pgUrl);
  try {
    const id = await seed(db.url);
    const servers = await Promise.all([startServer(db.url, fake), startServer(db.url, fake)]);
    try {
      fake.reset();
      await Promise.all(servers.map((s) => send(s, id)));
      let finished = false;
      const asking = askWhile(servers.map((s) => () => s), fake, () => finished);
      await waitForAll(fake, (RECIPIENTS / LIMIT) * 3_000 + 60_000);
      finished = true;
      return figures(fake, await asking);
    } finally {
      await Promise.all(servers.map((s) => s.close()));
    }
  } finally {
    await db.cleanup();
  }
}

async function main() {
  console.log(`群发：${RECIPIENTS.toLocaleString('en')} 个收件人，假 Bot API 每个滑动秒最多 ${LIMIT} 条（超出答 429），网关用默认限额`);
  console.log(`${machineLine()}\n`);
  const pgUrl = process.env.BENCH_DATABASE_URL?.trim();
  const fake = await startFakeBotApi();
  const rows = [];
  const items = [];
  const record = (label, r, rateTarget = true) => {
    rows.push([
      label, `${r.seconds.toFixed(0)} s`, `${r.rate.toFixed(1)}/s`, `${((r.rate / LIMIT) * 100).toFixed(1)}%`, `${r.refusedSteady} / ${r.refused}`,
      String(r.duplicates), String(r.losses), r.asked ? `${r.answered}/${r.asked}` : '-', r.asked ? `${ms(r.wait.p50)} / ${ms(r.wait.p99)}` : '-',
    ]);
    const rate = `${r.rate.toFixed(1)}/s（${((r.rate / LIMIT) * 100).toFixed(0)}%）`;
    items.push(rateTarget ? { label: `群发 ${label} 速率`, value: rate, target: `≥ ${(LIMIT * 0.95).toFixed(1)}/s`, ok: r.rate >= LIMIT * 0.95 } : { label: `群发 ${label} 速率（含停机）`, value: rate });
    items.push({ label: `群发 ${label} 稳态 429 / 重复 / 丢失`, value: `${r.refusedSteady} / ${r.duplicates} / ${r.losses}`, target: '0 / 0 / 0', ok: r.refusedSteady === 0 && r.duplicates === 0 && r.losses === 0 });
    if (r.asked) items.push({ label: `群发 ${label} 期间提问等待 p99`, value: ms(r.wait.p99) });
  };
  try {
    record('SQLite 单实例', await runPlain(fake));
    const killed = await runKilled(fake);
    record(`SQLite kill -9（第 ${killed.killedAfter} 条后）并重启`, killed, false);
    if (pgUrl) record('PostgreSQL 两个实例', await runTwo(fake, pgUrl));
    else console.log('（未设置 BENCH_DATABASE_URL：不测两个实例共用 PostgreSQL）');
  } finally {
    await fake.close();
  }
  printTable(['运行', '用时', '发送速率', '占限额', '429（稳态/全部）', '重复', '丢失', '提问已答', '提问等待 p50 / p99'], rows);
  console.log('\n速率 = 第一条到最后一条通知之间假 Bot API 接受的消息数（含提问的回答）/ 用时；kill -9 一行的用时含重启和认领过期（15 s）。');
  summary('broadcast', items);
}

// Last, so that every constant above is initialised when it runs.
if (process.argv[2] === '--server') await serverMain();
else await main();
