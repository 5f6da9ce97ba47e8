// Runs the benchmarks in order, each in its own process (so memory figures stay honest), and prints
// a summary of the figures against their targets. Benchmarks print; they assert nothing: a missed
// target shows as ✗ and does not change the exit code (a benchmark that crashes does).
//
//   node bench/run.js                     all of them (npm run bench builds first)
//   node bench/run.js query compare       only these, in the order given
//   node bench/run.js index-build --phases  other arguments go to every benchmark run
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { clearTimeout, setTimeout } from 'node:timers';
import { ROOT, machineLine, printTable } from './lib.js';

/** In running order, with a time limit each. */
const BENCHES = {
  'index-build': { file: 'index-build.js', timeoutS: 420, about: '索引构建时间、峰值 RSS、索引文件大小、持久化加载' },
  query: { file: 'query.js', timeoutS: 240, about: '查询延迟 p50/p99/max' },
  'cold-start': { file: 'cold-start.js', timeoutS: 240, about: 'chunfeng ask 冷启动' },
  compare: { file: 'compare.js', timeoutS: 120, about: '与 MiniSearch、FlexSearch 的准确率和延迟对比' },
  reload: { file: 'reload.js', timeoutS: 180, about: '运行中重新加载知识库：耗时，以及期间 /healthz 的等待' },
  insight: { file: 'insight.js', timeoutS: 1200, about: '100 万条消息上的热搜榜和待解答分组，各 < 200 ms（SQLite；设 BENCH_DATABASE_URL 时加 PostgreSQL）' },
  webhook: { file: 'webhook.js', timeoutS: 300, about: 'Telegram Webhook 负载：消息/秒、p50/p99（SQLite；设 BENCH_DATABASE_URL 时加 PostgreSQL）' },
  escalation: { file: 'escalation.js', timeoutS: 240, about: '转人工到控制台推送、坐席回复到 Bot API：p50/p99（SQLite；设 BENCH_DATABASE_URL 时加 PostgreSQL）' },
  broadcast: { file: 'broadcast.js', timeoutS: 3000, about: '群发 1 万条（30 条/秒限额）：速率、429、重复与丢失（含 kill -9、两个实例共用 PostgreSQL）、期间提问等待 p99' },
  report: { file: 'report.js', timeoutS: 900, about: '服务报告：100 万条消息上一周、一个月、半年的报告耗时（SQLite；设 BENCH_DATABASE_URL 时加 PostgreSQL）' },
};
const ALIASES = { build: 'index-build', cold: 'cold-start' };

function usage() {
  console.log('用法：node bench/run.js [基准 ...] [其他参数]\n基准：');
  for (const [name, b] of Object.entries(BENCHES)) console.log(`  ${name.padEnd(12)} ${b.about}`);
}

function runBench(name) {
  const bench = BENCHES[name];
  return new Promise((resolve) => {
    const started = performance.now();
    const child = spawn(process.execPath, [join(ROOT, 'bench', bench.file), ...forwarded], {
      cwd: ROOT, env: { ...process.env, CHUNFENG_BENCH_SUMMARY: '1' }, stdio: ['ignore', 'pipe', 'inherit'],
    });
    const items = [];
    createInterface({ input: child.stdout, crlfDelay: Infinity }).on('line', (line) => {
      if (line.startsWith('@@summary ')) items.push(...JSON.parse(line.slice('@@summary '.length)).items);
      else console.log(line);
    });
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGTERM');
    }, bench.timeoutS * 1000);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const seconds = (performance.now() - started) / 1000;
      const failure = timedOut ? `超过 ${bench.timeoutS} s，已终止` : code === 0 ? null : `退出码 ${code ?? signal}`;
      resolve({ name, seconds, items, failure });
    });
  });
}

const args = process.argv.slice(2);
if (args.includes('--help') || args.includes('-h')) {
  usage();
  process.exit(0);
}
const named = args.map((a) => ALIASES[a] ?? a).filter((a) => a in BENCHES);
const forwarded = args.filter((a) => !((ALIASES[a] ?? a) in BENCHES));
const unknown = forwarded.filter((a) => !a.startsWith('-') && !['tax', 'all'].includes(a));
if (unknown.length > 0) {
  console.error(`未知的基准：${unknown.join(', ')}`);
  usage();
  process.exit(2);
}
const selected = named.length > 0 ? named : Object.keys(BENCHES);

console.log(`开始：${machineLine()}`);
const results = [];
for (const name of selected) {
  console.log(`\n######## ${name} ########\n`);
  results.push(await runBench(name));
}

console.log('\n######## 汇总 ########\n');
console.log(`结束：${machineLine()}\n`);
const rows = [];
for (const r of results) {
  if (r.failure) rows.push([r.name, `失败：${r.failure}`, '', '✗']);
  for (const item of r.items) rows.push([item.label, item.value, item.target ?? '（参考）', item.ok === undefined ? '' : item.ok ? '✓' : '✗']);
}
printTable(['指标', '数值', '目标', ''], rows);
console.log('');
console.log(results.map((r) => `${r.name} ${r.seconds.toFixed(1)} s`).join('，') + `；共 ${results.reduce((s, r) => s + r.seconds, 0).toFixed(1)} s`);
if (results.some((r) => r.failure)) process.exitCode = 1;
