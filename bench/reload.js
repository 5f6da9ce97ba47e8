// A knowledge reload in a running server, with the statutes that ship with the package: how long it
// takes (worker build + stepped load), and how long /healthz waits meanwhile, measured by a client in
// another process polling it every 10 ms. Targets: the reload under 5 s, no /healthz over 50 ms.
// A copy of the knowledge folder gets one more entry before each timed reload, so the index is
// really rebuilt, not found saved.
//
//   node bench/reload.js [--corpus tax|all]   (all: the whole laws corpus as POLICY_DIRS as well)
import { spawn } from 'node:child_process';
import { cpSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';
import { setTimeout } from 'node:timers';
import { CORPORA, KNOWLEDGE_DIR, ROOT, freshCacheDir, latencyStats, machineLine, ms, printTable, requireInputs, summary, verdict } from './lib.js';

const { values } = parseArgs({ options: { corpus: { type: 'string', default: 'tax' }, rounds: { type: 'string', default: '3' } } });
requireInputs({ laws: values.corpus === 'all' ? ['all'] : [] });
const { loadConfig } = await import('../dist/config.js');
const { buildServer } = await import('../dist/server.js');

const work = freshCacheDir('reload');
const knowledgeDir = join(work, 'knowledge');
cpSync(KNOWLEDGE_DIR, knowledgeDir, { recursive: true });
const config = loadConfig({
  KNOWLEDGE_DIR: knowledgeDir, DATA_DIR: join(work, 'data'), DATABASE_URL: `sqlite:${join(work, 'data', 'db.sqlite')}`,
  ADMIN_TOKEN: 'bench-admin-token-0123456789', LOG_LEVEL: 'silent', PORT: '0',
  ...(values.corpus === 'all' ? { POLICY_DIRS: CORPORA.all } : {}),
});
const app = await buildServer(config, {}, false);
await app.listen({ host: '127.0.0.1', port: 0 });
const { port } = app.server.address();
await app.knowledge.loaded;

// The client: another process, so that what it measures is this server's event loop, not its own.
// Its first fetch is not timed: a new process's first fetch takes 40-75 ms by itself (undici
// loading), against a server that does nothing; the client says when it is warm.
const POLLER = `
const url = 'http://127.0.0.1:${port}/healthz';
const times = [];
let stop = false;
process.on('message', () => { stop = true; });
(async () => {
  await fetch(url).then((r) => r.text());
  process.send('warm');
  while (!stop) {
    const t = performance.now();
    await fetch(url).then((r) => r.text());
    times.push(performance.now() - t);
    await new Promise((r) => setTimeout(r, 10));
  }
  process.send(times);
})();`;

const rows = [];
const items = [];
for (let round = 1; round <= Number(values.rounds); round++) {
  writeFileSync(join(knowledgeDir, 'faq', `bench-reload-${round}.md`), entry(round));
  const poller = spawn(process.execPath, ['-e', POLLER], { cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  await new Promise((r) => poller.once('message', r));
  await new Promise((r) => setTimeout(r, 300));
  const started = performance.now();
  const report = await app.knowledge.reload();
  const reloadMs = performance.now() - started;
  await new Promise((r) => setTimeout(r, 100));
  const times = await new Promise((resolve) => {
    poller.once('message', resolve);
    poller.send('stop');
  });
  const stats = latencyStats(times);
  rows.push([`第 ${round} 次`, String(report.entries), String(report.passages), ms(reloadMs), String(times.length), ms(stats.p50), ms(stats.p99), ms(stats.max)]);
  items.push({ label: `重新加载（${values.corpus}）第 ${round} 次`, value: `${ms(reloadMs)}，/healthz 最慢 ${ms(stats.max)}`, ok: reloadMs < 5000 && stats.max < 50 });
}
await app.close();

console.log(`== 运行中重新加载知识库（法规：${values.corpus === 'all' ? '随包税收法规 + 全部法规' : '随包税收法规'}）==`);
console.log(machineLine());
printTable(['', '条目', '法规条文', '重新加载', '/healthz 次数', 'p50', 'p99', '最慢'], rows);
const worst = (i) => Math.max(...rows.map((r) => Number.parseFloat(r[i])));
console.log(`重新加载 ${verdict(worst(3), 5000, '< 5 s')}；/healthz 最慢 ${verdict(worst(7), 50, '< 50 ms')}`);
summary('reload', items);

function entry(n) {
  return ['---', `id: bench-reload-${n}`, `title: 基准测试条目${n}`, 'category: 申报', 'questions:', ...[1, 2, 3, 4, 5].map((i) => `  - 基准测试问法${n}-${i}`),
    'keywords: [基准测试]', 'sources:', '  - 国家税务总局公告2024年第1号', '---',
    `这是重新加载基准测试的第${n}个条目，${'用于确认新写入的条目在不重启服务的情况下就能作答，'.repeat(3)}可通过电子税务局办理，有疑问可拨打12366。`, ''].join('\n');
}
