// Index build and persisted load, each in a fresh process with a fresh cache folder:
//   (a) knowledge/ + laws/tax (45 files), (b) knowledge/ + laws/all (1,511 files).
// Prints article counts, build time, peak RSS, the size of the saved index and the time to open
// it again from the cache in another process. When the whole-corpus build misses a target (or
// with --phases) a third process repeats the build step by step to show where time and memory go.
//
//   node bench/index-build.js [tax|all ...] [--phases]
import { readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import {
  CORPORA, KNOWLEDGE_DIR, cpuMs, freshCacheDir, handOverCache, machineLine, mb, sharedCacheDir, ms, peakRss, printTable, requireInputs, runChild, summary, verdict,
} from './lib.js';

const SELF = fileURLToPath(import.meta.url);
const TARGET = { buildMs: 60_000, rssBytes: 1024 ** 3, loadMs: 1000 };

function countMarkdown(dir) {
  let n = 0;
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) n += countMarkdown(path);
    else if (name.endsWith('.md') && name.toLowerCase() !== 'readme.md') n++;
  }
  return n;
}

function savedIndexBytes(cacheDir) {
  const file = readdirSync(cacheDir).find((f) => /^index-.*\.json$/.test(f));
  return file ? statSync(join(cacheDir, file)).size : 0;
}

// ---------------------------------------------------------------- children

/** Opens the index exactly as the service does (build when the cache is empty, load when it is not). */
async function childOpen(corpus, cacheDir) {
  const { openIndex } = await import('../dist/knowledge/open.js');
  const started = performance.now();
  const cpuStarted = cpuMs();
  const opened = openIndex({ knowledgeDir: KNOWLEDGE_DIR, policyDirs: [CORPORA[corpus]], cacheDir });
  const wallMs = performance.now() - started;
  const cpu = cpuMs() - cpuStarted;
  const { knowledge, index } = opened;
  return {
    fromCache: opened.fromCache,
    millis: opened.millis,
    wallMs,
    cpu,
    rss: peakRss(),
    files: countMarkdown(CORPORA[corpus]),
    statutes: knowledge.statutes.length,
    passages: index.passageCount,
    entries: knowledge.entries.length,
    indexBytes: savedIndexBytes(cacheDir),
  };
}

/** The steps of openIndex one by one, with the peak RSS and the retained heap after each. */
async function childPhases(corpus, cacheDir) {
  const { loadKnowledge } = await import('../dist/knowledge/load.js');
  const { jiebaSegmenter } = await import('../dist/knowledge/jieba.js');
  const { createAnalyzer } = await import('../dist/core/text/analyze.js');
  const { SearchIndex } = await import('../dist/core/search/index.js');
  const gc = globalThis.gc ?? (() => {});
  const phases = [];
  let last = performance.now();
  const step = (name, extra = {}) => {
    const now = performance.now();
    gc();
    phases.push({ name, ms: now - last, peakRss: peakRss(), heapUsed: process.memoryUsage().heapUsed, ...extra });
    last = performance.now();
  };

  const knowledge = loadKnowledge(KNOWLEDGE_DIR, [CORPORA[corpus]]);
  const chars = knowledge.statutes.reduce((n, s) => n + s.articles.reduce((m, a) => m + a.text.length, 0), 0);
  step('读取并解析文件（loadKnowledge）', { note: `${knowledge.statutes.length} 部法规，${(chars / 1e6).toFixed(1)} M 字` });
  const segmenter = jiebaSegmenter(cacheDir, knowledge.words);
  step('分词器：裁剪主词典并加载（jiebaSegmenter）');
  const analyzer = createAnalyzer(segmenter, knowledge.lexicon);
  let tokens = 0;
  for (const s of knowledge.statutes) for (const a of s.articles) tokens += analyzer.terms(analyzer.analyze(a.text).normalized).length;
  step('条文规范化 + 分词（单独一遍，仅计时）', { note: `${(tokens / 1e6).toFixed(2)} M 个词；build 里同样要做一遍` });
  const segmentMs = phases[phases.length - 1].ms;
  const index = SearchIndex.build(knowledge.entries, knowledge.statutes, analyzer, knowledge.lexicon);
  const saved = index.toJSON();
  const vocabulary = saved.passages.terms.length;
  const postings = Buffer.from(saved.passages.docs, 'base64').length / 4;
  const buildNote = `建倒排表约 ${ms(performance.now() - last - segmentMs)}；词表 ${vocabulary}，倒排项 ${postings}`;
  step('SearchIndex.build（分词 + 建索引）', { note: buildNote });
  const json = JSON.stringify({ index: saved, statutes: knowledge.statutes });
  step('JSON.stringify', { note: `${(json.length / 1e6).toFixed(1)} M 字符` });
  const file = join(cacheDir, 'phases-index.json');
  writeFileSync(file, json);
  step('写入文件（转 UTF-8）', { note: mb(statSync(file).size) });
  return { phases };
}

/** The steps of opening a saved index (openIndex with the cache present), one by one. */
async function childLoadPhases(corpus, cacheDir) {
  const { loadKnowledge } = await import('../dist/knowledge/load.js');
  const { jiebaSegmenter } = await import('../dist/knowledge/jieba.js');
  const { createAnalyzer } = await import('../dist/core/text/analyze.js');
  const { SearchIndex } = await import('../dist/core/search/index.js');
  const phases = [];
  let last = performance.now();
  const step = (name, note) => {
    const now = performance.now();
    phases.push({ name, ms: now - last, peakRss: peakRss(), heapUsed: process.memoryUsage().heapUsed, note });
    last = performance.now();
  };
  const knowledge = loadKnowledge(KNOWLEDGE_DIR, [CORPORA[corpus]], new Date(), { statutes: false });
  step('读取知识库、按文件信息计算法规目录指纹（loadKnowledge）');
  const analyzer = createAnalyzer(jiebaSegmenter(cacheDir, knowledge.words), knowledge.lexicon);
  step('分词器：加载裁剪后的主词典（jiebaSegmenter）');
  const file = readdirSync(cacheDir).find((f) => /^index-.*\.json$/.test(f));
  const text = readFileSync(join(cacheDir, file), 'utf8');
  step('读取索引文件', mb(statSync(join(cacheDir, file)).size));
  const saved = JSON.parse(text);
  step('JSON.parse');
  SearchIndex.load(saved.index, knowledge.entries, saved.statutes, analyzer, knowledge.lexicon);
  step('SearchIndex.load（问答 lunr + 条文倒排表、法规名）');
  return { phases };
}

// ---------------------------------------------------------------- parent

function main() {
  const args = process.argv.slice(2);
  const wanted = args.filter((a) => a in CORPORA);
  const corpora = wanted.length > 0 ? wanted : Object.keys(CORPORA);
  requireInputs({ laws: corpora });
  console.log('== 索引构建与持久化加载（每项一个新进程、新的临时缓存目录）==');
  console.log(machineLine());
  console.log(`目标：全量语料构建 < ${TARGET.buildMs / 1000} s、峰值 RSS < 1 GB；持久化索引加载 < ${TARGET.loadMs / 1000} s\n`);

  const results = [];
  for (const corpus of corpora) {
    const cacheDir = freshCacheDir(`build-${corpus}`);
    const build = runChild(SELF, ['open', corpus, cacheDir], { timeoutMs: 300_000 });
    const load = runChild(SELF, ['open', corpus, cacheDir], { timeoutMs: 120_000 });
    // Query and cold-start benchmarks reuse this index rather than build it again.
    handOverCache(cacheDir, corpus);
    results.push({ corpus, build, load });
    console.log(`  ${corpus}: 构建 ${ms(build.millis)}（CPU ${ms(build.cpu)}），加载 ${ms(load.millis)}（CPU ${ms(load.cpu)}，fromCache=${load.fromCache}）`);
  }
  console.log('（CPU 明显小于墙钟时间说明机器被别的进程占用，计时偏大）\n');

  printTable(
    ['语料', '文件', '法规', '条文', 'FAQ/政策条目', '构建', '构建峰值 RSS', '索引文件', '持久化加载', '加载峰值 RSS', 'fromCache'],
    results.map(({ corpus, build, load }) => [
      `knowledge + laws/${corpus}`, build.files, build.statutes, build.passages, build.entries, ms(build.millis), mb(build.rss), mb(build.indexBytes),
      ms(load.millis), mb(load.rss), String(load.fromCache),
    ]),
  );
  console.log('');

  const items = [];
  for (const { corpus, build, load } of results) {
    const whole = corpus === 'all';
    console.log(`laws/${corpus}:`);
    if (whole) {
      console.log(`  构建      ${ms(build.millis).padStart(10)}   ${verdict(build.millis, TARGET.buildMs, `< ${TARGET.buildMs / 1000} s`)}`);
      console.log(`  峰值 RSS  ${mb(build.rss).padStart(10)}   ${verdict(build.rss, TARGET.rssBytes, '< 1 GB')}`);
      items.push({ label: '全量构建时间', value: ms(build.millis), target: '< 60 s', ok: build.millis <= TARGET.buildMs });
      items.push({ label: '全量构建峰值 RSS', value: mb(build.rss), target: '< 1 GB', ok: build.rss <= TARGET.rssBytes });
    }
    console.log(`  持久化加载 ${ms(load.millis).padStart(9)}   ${verdict(load.millis, TARGET.loadMs, `< ${TARGET.loadMs / 1000} s`)}${load.fromCache ? '' : '  ！没有从缓存加载（fromCache=false）'}`);
    items.push({ label: `持久化加载（laws/${corpus}）`, value: `${ms(load.millis)}${load.fromCache ? '' : ' fromCache=false!'}`, target: '< 1 s', ok: load.fromCache && load.millis <= TARGET.loadMs });
  }

  const whole = results.find((r) => r.corpus === 'all');
  const missed = whole && (whole.build.millis > TARGET.buildMs || whole.build.rss > TARGET.rssBytes);
  if (whole && (missed || args.includes('--phases'))) {
    console.log(`\n全量构建分步（新进程，--expose-gc；“保留堆”为该步之后强制 GC 的 heapUsed）：`);
    const cacheDir = freshCacheDir('phases');
    try {
      const { phases } = runChild(SELF, ['phases', 'all', cacheDir], { timeoutMs: 300_000, nodeArgs: ['--expose-gc'] });
      printTable(['步骤', '耗时', '之后峰值 RSS', '保留堆', '说明'], phases.map((p) => [p.name, ms(p.ms), mb(p.peakRss), mb(p.heapUsed), p.note ?? '']));
    } finally {
      rmSync(cacheDir, { recursive: true, force: true });
    }
  }
  if (whole && (whole.load.millis > TARGET.loadMs || args.includes('--phases'))) {
    console.log('\n全量索引持久化加载分步（新进程，缓存已在）：');
    const { phases } = runChild(SELF, ['load-phases', 'all', sharedCacheDir('all')], { timeoutMs: 120_000 });
    printTable(['步骤', '耗时', '之后峰值 RSS', '堆', '说明'], phases.map((p) => [p.name, ms(p.ms), mb(p.peakRss), mb(p.heapUsed), p.note ?? '']));
  }
  summary('index-build', items);
}

if (process.argv[2] === '--child') {
  const [, , , kind, corpus, cacheDir] = process.argv;
  const child = { open: childOpen, phases: childPhases, 'load-phases': childLoadPhases }[kind];
  const result = await child(corpus, cacheDir);
  console.log(JSON.stringify(result));
} else {
  main();
}
