// The staff insight pages on a year of traffic: 1,000,000 stored messages (a realistic mix of group
// chatter, answered questions over the knowledge's topics, declined and unsure questions, small talk
// and the bot's replies, in 1,000 chats of 10 tax offices, over 90 days), then the hot-questions board
// (GET /api/insight/hot for day, week and month, for everyone, one office and one chat) and the
// unanswered inbox (GET /api/insight/unanswered, grouping included: as read again unchanged, and after a
// new declined question, when the keys are grouped again) through the real app. Targets:
// each under 200 ms. On SQLite, and on PostgreSQL when BENCH_DATABASE_URL is set (a fresh schema,
// dropped afterwards). The one-time roll-up of the finished days (the retention job's first run) is
// printed too.
//
//   BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test node bench/insight.js [--messages 1000000]
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';
import Sqlite from 'better-sqlite3';
import pg from 'pg';
import { KNOWLEDGE_DIR, freshCacheDir, latencyStats, machineLine, ms, printTable, random, requireInputs, summary, verdict } from './lib.js';

const { values } = parseArgs({ options: { messages: { type: 'string', default: '1000000' }, runs: { type: 'string', default: '15' } } });
requireInputs();
const TOTAL = Number(values.messages);
const RUNS = Number(values.runs);
const TARGET_MS = 200;
const { loadConfig } = await import('../dist/config.js');
const { buildServer } = await import('../dist/server.js');
const { openStore } = await import('../dist/store/index.js');
const { newId } = await import('../dist/store/ids.js');
const { loadKnowledge } = await import('../dist/knowledge/load.js');

const DAY_MS = 24 * 3600_000;
const NOW = Date.now();
const OFFICES = Array.from({ length: 10 }, (_, i) => `第${'一二三四五六七八九十'[i]}税务分局`);
const CHATS = 1000;
const rand = random(20261129);
/** Zipf-like pick among n items: a few asked often, a long tail. */
const zipf = (n, s = 1.1) => {
  const weights = Array.from({ length: n }, (_, i) => 1 / (i + 1) ** s);
  const total = weights.reduce((a, b) => a + b, 0);
  const cumulative = [];
  let acc = 0;
  for (const w of weights) cumulative.push((acc += w / total));
  return () => {
    const r = rand();
    let lo = 0;
    let hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cumulative[mid] < r) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
};

/** The messages, column by column, and the inbox counts they imply. */
function generate() {
  const entries = loadKnowledge(KNOWLEDGE_DIR, [], new Date(), { statutes: false }).entries.filter((e) => e.kind === 'faq');
  const topic = zipf(entries.length);
  const words = ['发票', '丢失', '退税', '个税', '社保', '公积金', '契税', '房产', '印花税', '车船税', '注销', '变更', '登记', '申报', '逾期', '罚款', '滞纳金', '电子税务局',
    '密码', '重置', '实名', '认证', '小规模', '一般纳税人', '核定', '定额', '出口', '退库', '汇算', '专项附加', '扣除', '子女', '教育', '房贷', '租房', '赡养', '大病', '继续教育',
    '工资', '劳务', '稿酬', '年终奖', '股权', '分红', '利息', '补缴', '更正', '作废', '红冲', '额度', '数电票', '税控盘', '开票', '抬头', '跨区', '迁移', '非正常', '解除', '信用', '修复'];
  const declinedKeys = Array.from({ length: 20_000 }, () => {
    const n = 2 + Math.floor(rand() * 3);
    const picked = new Set();
    while (picked.size < n) picked.add(words[Math.floor(rand() * words.length)]);
    return [...picked].sort().join(' ');
  });
  const declinedPick = zipf(declinedKeys.length);
  const rows = [];
  const inbox = new Map();
  for (let i = 0; i < TOTAL; i++) {
    const at = new Date(NOW - rand() * 90 * DAY_MS).toISOString();
    const chat = Math.floor(rand() * CHATS);
    const group = chat < 800;
    const r = rand();
    const row = { id: newId(), chat, direction: 'in', text: '', at, entry: null, score: null, answered: null, reason: null, key: null };
    if (group && r < 0.55) row.text = '收到，谢谢大家';
    else if (r < 0.8) {
      const e = entries[topic()];
      row.text = e.questions[Math.floor(rand() * e.questions.length)] ?? e.title;
      Object.assign(row, { entry: e.id, score: 10 + rand() * 10, answered: 1, reason: 'answered', key: `k-${e.id}` });
    } else if (r < 0.88) {
      const key = declinedKeys[declinedPick()];
      row.text = `${key.replaceAll(' ', '')}怎么办${rand() < 0.1 ? '，电话[手机号]' : ''}`;
      Object.assign(row, { score: rand() * 3, answered: 0, reason: rand() < 0.5 ? 'uncertain' : 'no_match', key });
      const k = inbox.get(key) ?? { count: 0, first: at, last: at };
      k.count++;
      if (at < k.first) k.first = at;
      if (at > k.last) k.last = at;
      inbox.set(key, k);
    } else if (r < 0.9) Object.assign(row, { text: '老师好', answered: 0, reason: 'small_talk', score: 0 });
    else Object.assign(row, { direction: 'out', text: '【回答】……' });
    rows.push(row);
  }
  return { rows, inbox };
}

/** Chats, users and profiles through the store, as the service makes them. */
async function seedPeople(url) {
  const store = await openStore(url);
  const chatIds = [];
  for (let c = 0; c < CHATS; c++) {
    chatIds.push(await store.identities.upsertChat({ channel: c % 2 ? 'wechat' : 'telegram', channelChatId: `bench-${c}`, kind: c < 800 ? 'group' : 'private', title: c < 800 ? `办税群${c}` : null }));
  }
  const { checkProfileJson } = await import('../dist/core/notices/profile.js');
  const profiles = [];
  for (let c = 0; c < 600; c++) {
    const checked = checkProfileJson({ taxpayerId: `91370100MA${String(c).padStart(7, '0')}X`.slice(0, 18), name: `企业${c}`, taxpayerType: '一般纳税人', office: OFFICES[c % 10], chats: [{ channel: c % 2 ? 'wechat' : 'telegram', chatId: `bench-${c}` }] });
    if (checked.ok) profiles.push(checked.value);
  }
  await store.subscribers.upsert(profiles);
  await store.close();
  return chatIds;
}

const COLUMNS = ['id', 'channel', 'chat_id', 'user_id', 'direction', 'channel_message_id', 'text', 'created_at', 'entry_id', 'score', 'answered', 'reason', 'question_key'];
const values13 = (r, chatIds) => [r.id, r.chat % 2 ? 'wechat' : 'telegram', chatIds[r.chat], null, r.direction, null, r.text, r.at, r.entry, r.score, r.answered, r.reason, r.key];

async function fillSqlite(path, data, chatIds) {
  const db = new Sqlite(path);
  const insert = db.prepare(`insert into messages (${COLUMNS.join(', ')}) values (${COLUMNS.map(() => '?').join(', ')})`);
  const key = db.prepare(`insert into inbox_keys (key, count, first_at, last_at, state) values (?, ?, ?, ?, 'open')`);
  db.transaction(() => {
    for (const r of data.rows) insert.run(values13(r, chatIds));
    for (const [k, v] of data.inbox) key.run(k, v.count, v.first, v.last);
  })();
  db.exec('analyze');
  db.close();
}

async function fillPostgres(url, data, chatIds) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const types = ['text', 'text', 'text', 'text', 'text', 'text', 'text', 'text', 'text', 'float8', 'int4', 'text', 'text'];
  for (let i = 0; i < data.rows.length; i += 20_000) {
    const chunk = data.rows.slice(i, i + 20_000).map((r) => values13(r, chatIds));
    const columns = COLUMNS.map((_, c) => chunk.map((row) => row[c]));
    await client.query(`insert into messages (${COLUMNS.join(', ')}) select * from unnest(${types.map((t, c) => `$${c + 1}::${t}[]`).join(', ')})`, columns);
  }
  const keys = [...data.inbox];
  await client.query(`insert into inbox_keys (key, count, first_at, last_at, state) select k, n, f, l, 'open' from unnest($1::text[], $2::int4[], $3::text[], $4::text[]) as t(k, n, f, l)`,
    [keys.map(([k]) => k), keys.map(([, v]) => v.count), keys.map(([, v]) => v.first), keys.map(([, v]) => v.last)]);
  await client.query('analyze');
  await client.end();
}

async function measure(label, url, dataDir, bump) {
  // The first roll-up of the finished days, as the retention job does it once on a store that had none.
  const store = await openStore(url);
  const t = performance.now();
  const rolled = await store.insight.rollUp(new Date());
  const rollMs = performance.now() - t;
  await store.close();
  // Chatter is kept (RETENTION_CHATTER_DAYS): the figures are for the million messages, not for a
  // first retention run deleting three quarters of them meanwhile.
  const config = loadConfig({ DATABASE_URL: url, DATA_DIR: dataDir, KNOWLEDGE_DIR, ADMIN_TOKEN: 'bench-admin-token-0123456789', LOG_LEVEL: 'silent', RETENTION_CHATTER_DAYS: '3650' });
  const app = await buildServer(config, {}, false);
  await app.ready();
  await app.knowledge.loaded;
  const get = async (url) => {
    const t = performance.now();
    const res = await app.inject({ method: 'GET', url, headers: { authorization: 'Bearer bench-admin-token-0123456789' } });
    const took = performance.now() - t;
    if (res.statusCode !== 200) throw new Error(`${url}: ${res.statusCode} ${res.body}`);
    return { took, body: res.json() };
  };
  const someChat = (await app.store.insight.boardFilters()).chats[0].id;
  const cases = [
    ...['day', 'week', 'month'].map((p) => [`热搜榜 ${p}`, `/api/insight/hot?period=${p}`]),
    ['热搜榜 month，一个分局', `/api/insight/hot?period=month&office=${encodeURIComponent(OFFICES[3])}`],
    ['热搜榜 month，一个群', `/api/insight/hot?period=month&chat=${someChat}`],
    ['热搜榜 month，点开一个主题', null],
    ['待解答（分组，前 50 组）', '/api/insight/unanswered?limit=50'],
    // Between reads the inbox is grouped once; after a new declined question it is grouped again.
    ['待解答，每次之前来了一条新的未答提问', '/api/insight/unanswered?limit=50', bump],
  ];
  const rows = [];
  const items = [];
  let inboxInfo = '';
  for (const [name, path, before] of cases) {
    let url = path;
    if (!url) {
      const top = (await get('/api/insight/hot?period=month')).body.topics[0].id;
      url = `/api/insight/hot/${top}/messages?period=month&limit=50`;
    }
    if (before) await before(-1);
    await get(url);
    const times = [];
    let body;
    for (let i = 0; i < RUNS; i++) {
      if (before) await before(i);
      ({ took: times[i], body } = await get(url));
    }
    if (body.total !== undefined) inboxInfo = `${body.total.toLocaleString('en')} 组，最大一组 ${body.groups[0]?.count ?? 0} 条`;
    const s = latencyStats(times);
    rows.push([`${label}，${name}`, ms(s.p50), ms(s.max), verdict(s.max, TARGET_MS, `< ${TARGET_MS} ms`)]);
    items.push({ label: `${label} ${name}（最大）`, value: ms(s.max), target: `< ${TARGET_MS} ms`, ok: s.max <= TARGET_MS });
  }
  await app.close();
  return { rows, items, rolled, rollMs, inboxInfo };
}

/**
 * Another instance counting one more declined question of an existing key on its own connection
 * (what intake's upsert does), so the next read of the inbox has to group the keys again.
 */
async function otherInstance(url, keys) {
  const now = () => new Date().toISOString();
  if (url.startsWith('sqlite:')) {
    const db = new Sqlite(url.slice('sqlite:'.length));
    const bump = db.prepare('update inbox_keys set count = count + 1, last_at = ? where key = ?');
    return { bump: async (i) => bump.run(now(), keys[((i + 2) * 7919) % keys.length]), close: async () => db.close() };
  }
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  return {
    bump: (i) => client.query('update inbox_keys set count = count + 1, last_at = $1 where key = $2', [now(), keys[((i + 2) * 7919) % keys.length]]),
    close: () => client.end(),
  };
}

console.log(`洞察页面：${machineLine()}`);
console.log(`生成 ${TOTAL.toLocaleString('en')} 条消息（90 天，${CHATS} 个聊天，10 个分局）……`);
let started = performance.now();
const data = generate();
console.log(`生成用时 ${ms(performance.now() - started)}；待解答的不同问法 ${data.inbox.size.toLocaleString('en')} 种\n`);

const targets = [];
const work = freshCacheDir('insight');
targets.push({ label: 'SQLite', url: `sqlite:${join(work, 'sqlite', 'chunfeng.db')}`, fill: (url, ids) => fillSqlite(url.slice('sqlite:'.length), data, ids), cleanup: async () => undefined });
const pgBase = process.env.BENCH_DATABASE_URL?.trim();
if (pgBase) {
  const schema = `chunfeng_bench_${randomBytes(4).toString('hex')}`;
  const admin = async (text) => {
    const c = new pg.Client({ connectionString: pgBase });
    await c.connect();
    await c.query(text);
    await c.end();
  };
  await admin(`create schema ${schema}`);
  const url = new URL(pgBase);
  url.searchParams.set('options', `-c search_path=${schema}`);
  targets.push({ label: 'PostgreSQL', url: url.toString(), fill: (u, ids) => fillPostgres(u, data, ids), cleanup: () => admin(`drop schema if exists ${schema} cascade`) });
} else console.log('（未设置 BENCH_DATABASE_URL：只测 SQLite；例如 BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test）');

const rows = [];
const items = [];
for (const target of targets) {
  try {
    started = performance.now();
    const chatIds = await seedPeople(target.url);
    await target.fill(target.url, chatIds);
    console.log(`${target.label}：写入用时 ${ms(performance.now() - started)}`);
    const other = await otherInstance(target.url, [...data.inbox.keys()]);
    const r = await measure(target.label, target.url, join(work, target.label), other.bump).finally(other.close);
    console.log(`${target.label}：首次汇总 ${r.rolled} 天用时 ${ms(r.rollMs)}（保留期限任务在启动时做一次，之后每天一天）；待解答 ${r.inboxInfo}`);
    rows.push(...r.rows);
    items.push(...r.items);
  } finally {
    await target.cleanup();
  }
}
rmSync(work, { recursive: true, force: true });
console.log('');
printTable(['请求', 'p50', '最大', ''], rows);
summary('insight', items);
