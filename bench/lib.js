// Shared helpers for the benchmarks: paths, question sets, percentiles, child processes and the
// summary line that bench/run.js collects. Benchmarks print figures; they assert nothing.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const KNOWLEDGE_DIR = join(ROOT, 'knowledge');
/** The public statutes; read in place, never copied into the project. */
export const LAWS_DIR = process.env.CHUNFENG_BENCH_LAWS ?? '/work/shared/data/laws';
export const CORPORA = {
  tax: join(LAWS_DIR, 'tax'),
  all: join(LAWS_DIR, 'all'),
};
export const OWN_SET = join(ROOT, 'test/eval/own.jsonl');
export const DEV_SET = process.env.CHUNFENG_BENCH_DEV ?? '/work/shared/eval/dev.jsonl';

/** Fails early with a readable message when the build or the public data is missing. */
export function requireInputs({ laws = [] } = {}) {
  if (!existsSync(join(ROOT, 'dist/knowledge/open.js'))) {
    console.error('dist/ 不存在：先运行 npm run build（npm run bench 会自动构建）');
    process.exit(2);
  }
  for (const name of laws) {
    if (!existsSync(CORPORA[name])) {
      console.error(`找不到法规目录 ${CORPORA[name]}（可用 CHUNFENG_BENCH_LAWS 指定 laws/ 所在目录）`);
      process.exit(2);
    }
  }
}

/** Reads a {"q","topic"} JSON-lines file; a missing file gives an empty list and a note. */
export function readCases(file, source) {
  if (!existsSync(file)) {
    console.error(`（跳过题集 ${file}：文件不存在）`);
    return [];
  }
  return readFileSync(file, 'utf8')
    .split(/\r?\n/)
    .filter((l) => l.trim())
    .map((l) => ({ ...JSON.parse(l), source }));
}

/** The public dev set and our own set, in that order. */
export function allCases() {
  return [...readCases(DEV_SET, 'dev'), ...readCases(OWN_SET, 'own')];
}

/** A fresh, empty cache folder in the system temp folder. */
export function freshCacheDir(label) {
  return mkdtempSync(join(tmpdir(), `chunfeng-bench-${label}-`));
}

/**
 * A cache folder kept between benchmark runs (outside the project), one per corpus: query and
 * cold-start open their index from it; index-build hands over the index it has just built.
 */
export function sharedCacheDir(label) {
  const dir = join(tmpdir(), 'chunfeng-bench-cache', label);
  mkdirSync(dir, { recursive: true });
  return dir;
}

/** Replaces the shared cache folder `label` by `dir` (same file system: both under the temp folder). */
export function handOverCache(dir, label) {
  const target = sharedCacheDir(label);
  rmSync(target, { recursive: true, force: true });
  renameSync(dir, target);
}

/** Nearest-rank percentile of an ascending array. */
export function percentile(sorted, p) {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))];
}

/** p50, p90, p99, max and mean of a list of durations (ms). */
export function latencyStats(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mean = sorted.reduce((s, v) => s + v, 0) / Math.max(sorted.length, 1);
  return { n: sorted.length, p50: percentile(sorted, 0.5), p90: percentile(sorted, 0.9), p99: percentile(sorted, 0.99), max: sorted[sorted.length - 1] ?? Number.NaN, mean };
}

export function median(values) {
  return percentile([...values].sort((a, b) => a - b), 0.5);
}

/** Milliseconds with a sensible number of decimals. */
export function ms(v) {
  if (!Number.isFinite(v)) return '-';
  if (v >= 10_000) return `${(v / 1000).toFixed(1)} s`;
  if (v >= 1000) return `${(v / 1000).toFixed(2)} s`;
  if (v >= 100) return `${v.toFixed(0)} ms`;
  if (v >= 10) return `${v.toFixed(1)} ms`;
  return `${v.toFixed(2)} ms`;
}

export function mb(bytes) {
  return `${(bytes / 1048576).toFixed(1)} MB`;
}

/**
 * Node version, cores and load average: timings on a shared machine scale with the load, so every
 * benchmark prints this line next to its figures.
 */
export function machineLine() {
  const load = loadavg().map((l) => l.toFixed(2)).join(' / ');
  const cores = availableParallelism();
  const busy = loadavg()[0] > cores ? `  ！负载高于核数，计时会偏大` : '';
  return `node ${process.version}，${cores} 核，负载（1/5/15 分钟）${load}${busy}`;
}

/** CPU time (user + system) this process has used, in ms. */
export function cpuMs() {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
}

/** Peak resident set size of this process so far, in bytes. */
export function peakRss() {
  return process.resourceUsage().maxRSS * 1024;
}

/** "✓ 目标 < 1 s" or "✗ 目标 < 1 s（超出 2.3 倍）". */
export function verdict(value, limit, label) {
  if (!Number.isFinite(value)) return `? 目标 ${label}`;
  return value <= limit ? `✓ 目标 ${label}` : `✗ 目标 ${label}（为目标的 ${(value / limit).toFixed(1)} 倍）`;
}

const WIDE = /[\u1100-\u115f\u2e80-\ua4cf\uac00-\ud7a3\uf900-\ufaff\ufe30-\ufe4f\uff00-\uff60\uffe0-\uffe6]/u;

/** Columns a text takes in a terminal: CJK characters count as two. */
export function displayWidth(text) {
  return [...String(text)].reduce((n, ch) => n + (WIDE.test(ch) ? 2 : 1), 0);
}

/** Pads to a display width. */
export function pad(text, width, right = false) {
  const s = String(text);
  const fill = ' '.repeat(Math.max(0, width - displayWidth(s)));
  return right ? fill + s : s + fill;
}

/** Prints rows (arrays of cells) as an aligned table: first column left-aligned, the others right-aligned. */
export function printTable(header, rows) {
  const all = [header, ...rows];
  const widths = header.map((_, i) => Math.max(...all.map((r) => displayWidth(r[i] ?? ''))));
  const line = (r) => r.map((c, i) => pad(c ?? '', widths[i], i > 0)).join('  ').trimEnd();
  console.log(line(header));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const r of rows) console.log(line(r));
}

/**
 * Emits the figures bench/run.js puts in its summary: one JSON line it recognises and hides. Each
 * item is { label, value, target?, ok? }. Printed only when run.js asks for it.
 */
export function summary(bench, items) {
  if (process.env.CHUNFENG_BENCH_SUMMARY === '1') console.log(`@@summary ${JSON.stringify({ bench, items })}`);
}

/**
 * Runs this file again as a child (`node <file> --child ...args`) with its own memory, and returns
 * the JSON object the child prints on its last stdout line. Times out rather than hang.
 */
export function runChild(file, args, { timeoutMs = 180_000, env = {}, nodeArgs = [] } = {}) {
  const res = spawnSync(process.execPath, [...nodeArgs, file, '--child', ...args], {
    cwd: ROOT, encoding: 'utf8', timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024, env: { ...process.env, ...env },
  });
  if (res.error) throw new Error(`${file} ${args.join(' ')}: ${res.error.message}`);
  if (res.status !== 0) throw new Error(`${file} ${args.join(' ')} exited ${res.status ?? res.signal}\n${res.stderr}`);
  const last = res.stdout.trim().split('\n').pop() ?? '';
  return JSON.parse(last);
}

/** A small deterministic random generator (mulberry32), so every run samples the same questions. */
export function random(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * A fresh PostgreSQL schema on `base` for one benchmark run: `url` puts it first on search_path,
 * `drop()` removes it with everything in it.
 */
export async function postgresSchema(base) {
  const { default: pg } = await import('pg');
  const schema = `chunfeng_bench_${randomBytes(6).toString('hex')}`;
  const run = async (sql) => {
    const client = new pg.Client({ connectionString: base });
    await client.connect();
    try {
      await client.query(sql);
    } finally {
      await client.end();
    }
  };
  await run(`create schema ${schema}`);
  const url = new URL(base);
  url.searchParams.set('options', `-c search_path=${schema}`);
  return { url, drop: () => run(`drop schema if exists ${schema} cascade`) };
}
