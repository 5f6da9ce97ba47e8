// Cold start of the command line: `node dist/cli.js ask "..."`, wall time from spawn to the first
// answer line on stdout. One cold run with an empty data folder (trims the dictionary, builds and
// saves the index), then the median of 10 runs with that cache warm. Target: warm < 1.5 s.
//
//   node bench/cold-start.js
import { spawn, spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { clearTimeout, setTimeout } from 'node:timers';
import { CORPORA, KNOWLEDGE_DIR, ROOT, freshCacheDir, machineLine, median, ms, printTable, requireInputs, summary, verdict } from './lib.js';

const CLI = join(ROOT, 'dist/cli.js');
const RUNS = 10;
const TARGET_MS = 1500;
const QUESTION = '我们公司想申请增值税留抵退税，需要满足什么条件？';

/** Spawns `chunfeng ask --json q` and resolves with the time to the first stdout line and to exit. */
function timeAsk(env, q) {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, [CLI, 'ask', '--json', q], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    let first = null;
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk) => {
      out += chunk;
      if (first === null && out.includes('\n')) first = performance.now() - started;
    });
    child.stderr.on('data', (chunk) => {
      err += chunk;
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (code !== 0 || first === null) reject(new Error(`chunfeng ask 失败（${code ?? signal}）：${err.trim()}`));
      else resolve({ first, exit: performance.now() - started, answer: JSON.parse(out.split('\n')[0]) });
    });
  });
}

/** Time for node itself to start and exit, for reference. */
function nodeBaseline() {
  const times = [];
  for (let i = 0; i < 5; i++) {
    const t = performance.now();
    spawnSync(process.execPath, ['-e', '0']);
    times.push(performance.now() - t);
  }
  return median(times);
}

async function measure(label, policyDirs) {
  const dataDir = freshCacheDir('cli');
  const env = {
    ...process.env, KNOWLEDGE_DIR, POLICY_DIRS: policyDirs.join(','), DATA_DIR: dataDir,
    DATABASE_URL: `sqlite:${join(dataDir, 'bench.db')}`, LOG_LEVEL: 'silent',
  };
  try {
    const cold = await timeAsk(env, QUESTION);
    const warm = [];
    for (let i = 0; i < RUNS; i++) warm.push(await timeAsk(env, QUESTION));
    const firsts = warm.map((w) => w.first);
    return {
      label, cold, warmMedian: median(firsts), warmMin: Math.min(...firsts), warmMax: Math.max(...firsts),
      exitMedian: median(warm.map((w) => w.exit)), answer: warm[0].answer,
    };
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

requireInputs({ laws: ['tax'] });
console.log('== 冷启动：node dist/cli.js ask（从 spawn 到第一行答案）==');
console.log(machineLine());
console.log(`问题：“${QUESTION}”；热缓存取 ${RUNS} 次中位数；目标：热缓存 < ${TARGET_MS / 1000} s`);
const baseline = nodeBaseline();
const results = [await measure('knowledge（默认配置）', []), await measure('knowledge + laws/tax', [CORPORA.tax])];
console.log('');
printTable(
  ['配置', '热缓存中位数', '最快', '最慢', '进程退出（中位数）', '冷启动（无缓存）', '答案'],
  results.map((r) => [r.label, ms(r.warmMedian), ms(r.warmMin), ms(r.warmMax), ms(r.exitMedian), ms(r.cold.first), r.answer.id ?? r.answer.reason]),
);
console.log(`（参考：node -e 0 启动并退出 ${ms(baseline)}）`);
for (const r of results) console.log(`${r.label}：热缓存 ${ms(r.warmMedian)}   ${verdict(r.warmMedian, TARGET_MS, `< ${TARGET_MS / 1000} s`)}`);
summary('cold-start', results.map((r) => ({
  label: `ask 冷启动（${r.label}，热缓存）`, value: `${ms(r.warmMedian)}（无缓存 ${ms(r.cold.first)}）`, target: '< 1.5 s', ok: r.warmMedian <= TARGET_MS,
})));
