// The service report on a big store: 1,000,000 messages over 26 weeks (questions with realistic
// decisions and Beijing working-hour peaks, group chatter, the bot's replies), 50,000 tickets
// (answered, resolved and rated in realistic shares) and 100,000 notice recipients; then, as on a Monday morning, the first report of the week (counting the days not kept
// yet), the maintenance job keeping every final day, and the report of a week, a month and the
// whole half year, each timed. SQLite always; PostgreSQL too when BENCH_DATABASE_URL is set (a
// fresh schema, dropped afterwards).
//
//   npx tsc -p tsconfig.build.json && node bench/report.js
//   BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test node bench/report.js
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { ROOT, latencyStats, machineLine, ms, postgresSchema, printTable, random, requireInputs, summary, verdict } from './lib.js';

requireInputs();
const { openStore } = await import(join(ROOT, 'dist/store/index.js'));
const { keepFinalDays, serviceReport } = await import(join(ROOT, 'dist/report/service.js'));
const { parseDays, parseWeek } = await import(join(ROOT, 'dist/core/report/period.js'));
const { DEFAULT_TICKET_RULES } = await import(join(ROOT, 'dist/core/tickets/rules.js'));
const { WEEKDAYS_ONLY } = await import(join(ROOT, 'dist/core/tickets/workdays.js'));

const MESSAGES = Number(process.env.BENCH_MESSAGES ?? 1_000_000);
const WEEKS = 26;
const USERS = 20_000;
const GROUPS = 300;
const TICKETS = Number(process.env.BENCH_TICKETS ?? 50_000);
const NOTICES = 200;
const PER_NOTICE = 500;
const RUNS = 20;
const TARGET_MS = 200;
/** The last week of the data: the report staff print on Monday morning. */
const LAST_WEEK = parseWeek('2026-W48').value;
/** Monday 30 November, 09:00 Beijing time: Sunday's figures are not final yet. */
const NOW = new Date('2026-11-30T01:00:00Z');
const SETTINGS = { calendar: WEEKDAYS_ONLY, rules: DEFAULT_TICKET_RULES };
const START = LAST_WEEK.to.getTime() - WEEKS * 7 * 86_400_000;
const OFFICES = ['第一分局', '第二分局', '第三分局', '第四分局', '第五分局', '稽查局', null];
const ENTRIES = Array.from({ length: 120 }, (_, i) => `entry-${i}`);

/** Beijing working hours weigh most: 9-11 and 14-16 peak, nights nearly empty. */
const HOUR_WEIGHTS = [1, 0.5, 0.3, 0.2, 0.2, 0.4, 1, 3, 6, 10, 11, 9, 5, 6, 10, 11, 9, 6, 4, 3, 3, 2, 2, 1];
const HOUR_TOTAL = HOUR_WEIGHTS.reduce((a, b) => a + b, 0);

/** Yields message rows in time order, deterministic for a seed. */
function* messageRows(rand) {
  const span = WEEKS * 7 * 86_400_000;
  const pickHour = () => {
    let r = rand() * HOUR_TOTAL;
    for (let h = 0; h < 24; h++) if ((r -= HOUR_WEIGHTS[h]) <= 0) return h;
    return 23;
  };
  let n = 0;
  while (n < MESSAGES) {
    // A day, then a Beijing hour in it, then a user and where they write.
    const day = Math.floor(rand() * (span / 86_400_000));
    const at = START + day * 86_400_000 + ((pickHour() + 24 - 8) % 24) * 3_600_000 + Math.floor(rand() * 3_600_000);
    const user = Math.floor(rand() * USERS);
    const inGroup = rand() < 0.7;
    const chat = inGroup ? `g${user % GROUPS}` : `p${user}`;
    const kind = rand();
    if (inGroup && kind < 0.45) {
      yield { chat, user, at, reason: null, text: '收到，谢谢' };
      n++;
      continue;
    }
    const r = rand();
    const reason = r < 0.55 ? 'answered' : r < 0.6 ? 'referred' : r < 0.75 ? 'uncertain' : r < 0.9 ? 'no_match' : 'small_talk';
    yield { chat, user, at, reason, text: '请问小规模纳税人增值税怎么申报', entry: reason === 'answered' || reason === 'referred' ? ENTRIES[Math.floor(rand() * ENTRIES.length)] : null };
    yield { chat, user: null, at: at + 500, reason: undefined, text: '【增值税申报】……' };
    n += 2;
    if (reason === 'uncertain' && rand() < 0.6) {
      yield { chat, user, at: at + 60_000, reason: 'picked', text: '1', entry: ENTRIES[0] };
      n++;
    }
  }
}

const TICKET_COLS = ['id', 'number', 'day', 'seq', 'channel', 'chat_id', 'user_id', 'channel_chat_id', 'channel_user_id', 'chat_kind', 'user_name', 'source', 'category',
  'priority', 'state', 'assignee', 'version', 'last_change', 'due_at', 'first_response_due_at', 'first_response_at', 'resolved_at', 'rating', 'flagged', 'created_at', 'updated_at'];
const EVENT_COLS = ['id', 'ticket_id', 'type', 'actor', 'data', 'at'];

const cols = ['id', 'channel', 'chat_id', 'user_id', 'direction', 'channel_message_id', 'text', 'created_at', 'entry_id', 'score', 'answered', 'reason'];

/** Fills the store straight through its database (the repositories would take minutes for a million rows). */
async function fill(target) {
  const store = await openStore(target.url);
  await store.close();
  const rand = random(48);
  const chatIds = new Map();
  const userIds = (u) => `user-${u}`;
  const users = Array.from({ length: USERS }, (_, u) => [userIds(u), 'telegram', String(100000 + u), `用户${u}`, new Date(START).toISOString()]);
  const chats = [
    ...Array.from({ length: GROUPS }, (_, g) => [`chat-g${g}`, 'telegram', String(-1000 - g), 'group', `纳税人之家${g}`, new Date(START).toISOString()]),
    ...Array.from({ length: USERS }, (_, u) => [`chat-p${u}`, 'telegram', String(100000 + u), 'private', null, new Date(START).toISOString()]),
  ];
  for (const c of chats) chatIds.set(c[0].slice(5), c[0]);
  let seq = 0;
  const rowOf = (m) => {
    seq++;
    const inbound = m.user !== null;
    const decided = inbound && m.reason !== null;
    const answered = decided ? (['answered', 'referred', 'picked'].includes(m.reason) ? 1 : 0) : null;
    return [
      `m${String(seq).padStart(8, '0')}`, 'telegram', chatIds.get(m.chat), inbound ? userIds(m.user) : null, inbound ? 'in' : 'out', inbound ? `t${seq}` : null,
      m.text, new Date(m.at).toISOString(), decided ? m.entry ?? null : null, decided ? 5 : null, answered, decided ? m.reason : null,
    ];
  };
  const subscribers = Array.from({ length: USERS / 4 }, (_, i) => [`sub-${i}`, `91370102MA${String(i).padStart(8, '0')}`, `企业${i}`, '一般纳税人', OFFICES[i % OFFICES.length], '[]', new Date(START).toISOString()]);
  const notices = Array.from({ length: NOTICES }, (_, i) => [`notice-${i}`, `通知${i}`, new Date(START + (i / NOTICES) * WEEKS * 7 * 86_400_000).toISOString()]);
  const recipients = [];
  for (let i = 0; i < NOTICES; i++) {
    const sent = Date.parse(notices[i][2]);
    for (let k = 0; k < PER_NOTICE; k++) {
      const s = (i * 37 + k * 11) % subscribers.length;
      recipients.push([`notice-${i}`, 'telegram', String(100000 + s), `sub-${s}`, subscribers[s][4], '[]', new Date(sent).toISOString(), rand() < 0.62 ? new Date(sent + 3_600_000).toISOString() : null]);
    }
  }
  const CATEGORIES = ['政策咨询类', '政策咨询类', '政策咨询类', '服务质效类', '服务态度类', '侵害权益类'];
  const tickets = [];
  const events = [];
  const open = new Set();
  for (let i = 0; i < TICKETS; i++) {
    const u = Math.floor(rand() * USERS);
    const created = START + rand() * WEEKS * 7 * 86_400_000;
    const iso = (ms) => new Date(ms).toISOString();
    const answered = rand() < 0.9 ? created + rand() * 2 * 86_400_000 : null;
    let resolved = answered !== null && rand() < 0.85 ? answered + rand() * 3 * 86_400_000 : null;
    // A person has one open ticket in a chat at most (tickets_open_key): any other of theirs was answered.
    if (resolved === null && open.has(u)) resolved = (answered ?? created) + 3_600_000;
    if (resolved === null) open.add(u);
    const rating = resolved !== null && rand() < 0.6 ? (rand() < 0.6 ? 1 : rand() < 0.75 ? 2 : 3) : null;
    const id = `ticket-${i}`;
    const day = iso(created).slice(0, 10);
    tickets.push([
      id, `CF-${day.replaceAll('-', '')}-${String(i).padStart(6, '0')}`, day, i, 'telegram', `chat-p${u}`, userIds(u), String(100000 + u), String(100000 + u), 'private', `用户${u}`,
      'human', CATEGORIES[i % CATEGORIES.length], 'normal', resolved === null ? 'in_progress' : 'resolved', null, 1, id, iso(created + 3 * 86_400_000),
      iso(created + 86_400_000), answered === null ? null : iso(answered), resolved === null ? null : iso(resolved), rating, rating === 3 ? 1 : 0, iso(created), iso(created),
    ]);
    if (rating !== null) events.push([`${id}:rated`, id, 'rated', 'user', JSON.stringify({ rating }), iso(resolved + 3_600_000)]);
  }
  await target.load({ users, chats, rows: (function* () { for (const m of messageRows(rand)) yield rowOf(m); })(), subscribers, notices, recipients, tickets, events });
}

async function sqliteTarget() {
  const dir = mkdtempSync(join(tmpdir(), 'chunfeng-bench-report-'));
  const path = join(dir, 'chunfeng.db');
  return {
    label: 'SQLite', url: `sqlite:${path}`, cleanup: async () => rmSync(dir, { recursive: true, force: true }),
    async load({ users, chats, rows, subscribers, notices, recipients, tickets, events }) {
      const { default: Sqlite } = await import('better-sqlite3');
      const db = new Sqlite(path);
      db.pragma('journal_mode = WAL');
      const insert = (sql, list) => {
        const st = db.prepare(sql);
        db.transaction((items) => { for (const r of items) st.run(r); })(list);
      };
      insert('insert into users (id, channel, channel_user_id, display_name, created_at) values (?, ?, ?, ?, ?)', users);
      insert('insert into chats (id, channel, channel_chat_id, kind, title, created_at) values (?, ?, ?, ?, ?, ?)', chats);
      const st = db.prepare(`insert into messages (${cols.join(', ')}) values (${cols.map(() => '?').join(', ')})`);
      let batch = [];
      const flush = db.transaction((items) => { for (const r of items) st.run(r); });
      for (const r of rows) {
        batch.push(r);
        if (batch.length === 50_000) { flush(batch); batch = []; }
      }
      flush(batch);
      insert(`insert into subscribers (id, taxpayer_id, name, taxpayer_type, office, tags, created_at, updated_at) values (?, ?, ?, ?, ?, ?, ?, ?)`, subscribers.map((s) => [...s, s[6]]));
      insert(`insert into notices (id, title, text, audience, topics, reminders, state, targeted, created_at, sent_at) values (?, ?, '正文', '{}', '[]', '[]', 'sent', ${PER_NOTICE}, ?, ?)`, notices.map((n) => [...n, n[2]]));
      insert('insert into notice_recipients (notice_id, channel, channel_chat_id, subscriber_id, office, items, created_at, read_at, reminders_sent) values (?, ?, ?, ?, ?, ?, ?, ?, 0)', recipients);
      insert(`insert into tickets (${TICKET_COLS.join(', ')}) values (${TICKET_COLS.map(() => '?').join(', ')})`, tickets);
      insert(`insert into ticket_events (${EVENT_COLS.join(', ')}) values (${EVENT_COLS.map(() => '?').join(', ')})`, events);
      db.exec('analyze');
      db.close();
    },
  };
}

async function postgresTarget(base) {
  const { default: pg } = await import('pg');
  const { url, drop } = await postgresSchema(base);
  return {
    label: 'PostgreSQL', url: url.toString(), cleanup: drop,
    async load({ users, chats, rows, subscribers, notices, recipients, tickets, events }) {
      const client = new pg.Client({ connectionString: url.toString() });
      await client.connect();
      // One statement per batch: arrays of each column, unnested into rows.
      const insert = async (table, columns, types, list) => {
        for (let i = 0; i < list.length; i += 20_000) {
          const part = list.slice(i, i + 20_000);
          await client.query(`insert into ${table} (${columns.join(', ')}) select * from unnest(${types.map((t, k) => `$${k + 1}::${t}[]`).join(', ')})`, columns.map((_, k) => part.map((r) => r[k])));
        }
      };
      try {
        await insert('users', ['id', 'channel', 'channel_user_id', 'display_name', 'created_at'], ['text', 'text', 'text', 'text', 'text'], users);
        await insert('chats', ['id', 'channel', 'channel_chat_id', 'kind', 'title', 'created_at'], ['text', 'text', 'text', 'text', 'text', 'text'], chats);
        let batch = [];
        const types = ['text', 'text', 'text', 'text', 'text', 'text', 'text', 'text', 'text', 'float8', 'int4', 'text'];
        for (const r of rows) {
          batch.push(r);
          if (batch.length === 20_000) { await insert('messages', cols, types, batch); batch = []; }
        }
        await insert('messages', cols, types, batch);
        await insert('subscribers', ['id', 'taxpayer_id', 'name', 'taxpayer_type', 'office', 'tags', 'created_at', 'updated_at'], Array(8).fill('text'), subscribers.map((s) => [...s, s[6]]));
        await insert('notices', ['id', 'title', 'created_at', 'sent_at', 'text', 'audience', 'topics', 'reminders', 'state', 'targeted'], [...Array(9).fill('text'), 'int4'],
          notices.map((n) => [...n, n[2], '正文', '{}', '[]', '[]', 'sent', PER_NOTICE]));
        await insert('notice_recipients', ['notice_id', 'channel', 'channel_chat_id', 'subscriber_id', 'office', 'items', 'created_at', 'read_at', 'reminders_sent'], [...Array(8).fill('text'), 'int4'], recipients.map((r) => [...r, 0]));
        const ticketTypes = TICKET_COLS.map((c) => (['seq', 'version', 'rating', 'flagged'].includes(c) ? 'int4' : 'text'));
        await insert('tickets', TICKET_COLS, ticketTypes, tickets);
        await insert('ticket_events', EVENT_COLS, EVENT_COLS.map(() => 'text'), events);
        await client.query('vacuum analyze');
      } finally {
        await client.end();
      }
    },
  };
}

const periods = [
  ['一周（2026-W48）', LAST_WEEK],
  ['一个月（30 天）', parseDays('2026-10-31', '2026-11-29').value],
  ['全部 26 周', parseDays(new Date(START + 8 * 3_600_000).toISOString().slice(0, 10), '2026-11-29').value],
];

console.log(machineLine());
console.log(`服务报告：${MESSAGES.toLocaleString('en')} 条消息（${WEEKS} 周，${USERS.toLocaleString('en')} 用户，${GROUPS} 个群），${TICKETS.toLocaleString('en')} 张工单，${(NOTICES * PER_NOTICE).toLocaleString('en')} 条通知送达；每个区间 ${RUNS} 次`);
const targets = [sqliteTarget];
const pgUrl = process.env.BENCH_DATABASE_URL?.trim();
if (pgUrl) targets.push(() => postgresTarget(pgUrl));
else console.log('（未设置 BENCH_DATABASE_URL：只测 SQLite；例如 BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test）');

const table = [];
const items = [];
for (const make of targets) {
  const target = await make();
  try {
    const started = performance.now();
    await fill(target);
    console.log(`${target.label}：写入 ${ms(performance.now() - started)}`);
    const store = await openStore(target.url);
    try {
      let t = performance.now();
      await serviceReport(store, LAST_WEEK, SETTINGS, NOW);
      const cold = performance.now() - t;
      t = performance.now();
      const keptDays = await keepFinalDays(store, NOW);
      const keeping = performance.now() - t;
      console.log(`${target.label}：第一次出周报（逐日计数并保存）${ms(cold)}；维护任务保存其余 ${keptDays} 天 ${ms(keeping)}`);
      items.push({ label: `服务报告 ${target.label} 第一次出周报`, value: ms(cold) }, { label: `服务报告 ${target.label} 保存 ${keptDays} 天统计`, value: ms(keeping) });
      for (const [label, period] of periods) {
        const times = [];
        let report = null;
        for (let i = 0; i < RUNS; i++) {
          const t = performance.now();
          report = await serviceReport(store, period, SETTINGS, NOW);
          times.push(performance.now() - t);
        }
        const stats = latencyStats(times);
        table.push([`${target.label} ${label}`, report.questions.total.toLocaleString('en'), report.tickets.total.toLocaleString('en'), ms(stats.p50), ms(stats.max), verdict(stats.p50, TARGET_MS, `< ${TARGET_MS} ms`)]);
        items.push({ label: `服务报告 ${target.label} ${label} p50`, value: ms(stats.p50), target: `< ${TARGET_MS} ms`, ok: stats.p50 < TARGET_MS });
      }
    } finally {
      await store.close();
    }
  } finally {
    await target.cleanup();
  }
}
printTable(['数据库 区间', '咨询量', '工单', 'p50', 'max', ''], table);
summary('report', items);
