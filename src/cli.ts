#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig, loadDotEnv, type Config } from './config.js';
import { openIndex } from './knowledge/open.js';
import { loadKnowledge } from './knowledge/load.js';
import type { Answer, SearchIndex } from './core/search/index.js';
import { percent, score, type EvalCase, type Tally } from './core/eval/score.js';
import { formatAnswer } from './core/conversation/format.js';

const USAGE = `用法：chunfeng <命令>
  serve                       启动网关（npm start 即此命令）
  ask [--json] [--explain] [问题 ...]
                              回答问题；不给问题时从标准输入逐行读取；--explain 显示分词和候选
  kb lint                     检查知识库，每个问题输出“文件:行: 说明”
  kb export                   以 JSON 数组输出全部条目
  eval FILE.jsonl [--json]    用 {"q","topic"} 题集评测：top-1、top-3、拒答率、答错率，按分类和问法统计`;

function indexFor(config: Config): SearchIndex {
  return openIndex({ knowledgeDir: config.knowledgeDir, policyDirs: config.policyDirs, cacheDir: config.cacheDir }).index;
}

function printAnswer(a: Answer, json: boolean): void {
  process.stdout.write(json ? `${JSON.stringify(a)}\n` : `问：${a.q}\n${formatAnswer(a)}\n\n`);
}

async function ask(config: Config, args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args, options: { json: { type: 'boolean', default: false }, explain: { type: 'boolean', default: false } }, allowPositionals: true,
  });
  const index = indexFor(config);
  const answer = (q: string): void => {
    printAnswer(index.ask(q), values.json);
    if (values.explain) process.stdout.write(`${JSON.stringify(index.explain(q))}\n`);
  };
  if (positionals.length > 0) {
    for (const q of positionals) answer(q);
    return 0;
  }
  const lines = createInterface({ input: process.stdin, crlfDelay: Infinity });
  for await (const line of lines) if (line.trim()) answer(line);
  return 0;
}

function lint(config: Config): number {
  const knowledge = loadKnowledge(config.knowledgeDir, config.policyDirs);
  for (const f of knowledge.findings) process.stdout.write(`${f.file}:${f.line}: ${f.severity === 'warning' ? '（提醒）' : ''}${f.message}\n`);
  const count = (kind: string): number => knowledge.entries.filter((e) => e.kind === kind).length;
  process.stderr.write(`${knowledge.entries.length} 个条目（问答 ${count('faq')}，转办 ${count('referral')}，政策 ${count('policy')}），${knowledge.statutes.length} 部法规，${knowledge.findings.length} 个问题\n`);
  return knowledge.findings.length > 0 ? 1 : 0;
}

function exportEntries(config: Config): number {
  const index = indexFor(config);
  const out = [...index.entries, ...index.articles()].map((e) => ({
    id: e.id, kind: e.kind, title: e.title, category: e.category, questions: e.questions, keywords: e.keywords,
    answer: e.answer, sources: e.sources, valid_from: e.validFrom, valid_until: e.validUntil,
  }));
  process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
  return 0;
}

function evaluate(config: Config, args: string[]): number {
  const { values, positionals } = parseArgs({ args, options: { json: { type: 'boolean', default: false } }, allowPositionals: true });
  const file = positionals[0];
  if (!file) throw new UsageError('eval 需要一个 .jsonl 题集文件');
  const cases: EvalCase[] = readFileSync(file, 'utf8').split(/\r?\n/).filter((l) => l.trim()).map((l, i) => {
    try {
      return JSON.parse(l) as EvalCase;
    } catch {
      throw new UsageError(`${file}:${i + 1}: 不是合法的 JSON`);
    }
  });
  const index = indexFor(config);
  const answers = cases.map((c) => index.ask(c.q));
  const report = score(cases, answers, (id) => index.entry(id));
  if (values.json) {
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    return 0;
  }
  const out: string[] = [];
  for (const m of report.misses) out.push(`未命中  ${m.q}  期望 ${m.expected ?? '拒答'}  得到 ${m.got ?? '拒答'}${m.suggestions.length ? `（建议 ${m.suggestions.join(', ')}）` : ''}`);
  const rows = (title: string, slices: Record<string, Tally>): void => {
    out.push('', `${column(title)}  题数   top-1    top-3    答错    转办    拒答`);
    for (const [name, t] of Object.entries(slices).sort()) {
      out.push(`${column(name)}  ${String(t.total).padStart(4)}  ${[t.top1, t.top3, t.wrong, t.referred, t.declined].map((n) => percent(n, t.total).padStart(6)).join('  ')}`);
    }
  };
  rows('分类', report.byCategory);
  // Styles and areas may hold questions to decline: there top-1 and top-3 count the declines.
  if (Object.keys(report.byStyle).length) rows('问法', report.byStyle);
  if (Object.keys(report.byArea).length) rows('领域', report.byArea);
  if (report.missingEntries > 0) out.push('', `${report.missingEntries} 题期望的条目不在知识库中，按应拒答计分`);
  const { inScope: s, outOfScope: o, overall: all } = report;
  out.push(
    '',
    `top-1: ${percent(s.top1, s.total)} (${s.top1}/${s.total})`,
    `top-3: ${percent(s.top3, s.total)} (${s.top3}/${s.total})`,
    `out-of-scope rejection: ${percent(o.rejected, o.total)} (${o.rejected}/${o.total})`,
    `wrong answers: ${percent(all.wrong, all.total)} (${all.wrong}/${all.total})`,
  );
  process.stdout.write(`${out.join('\n')}\n`);
  return 0;
}

/** A table's first column, padded to 16 terminal cells: a Chinese character takes two. */
function column(name: string): string {
  const width = [...name].reduce((w, ch) => w + (/[\u1100-\uffdc]/u.test(ch) ? 2 : 1), 0);
  return name + ' '.repeat(Math.max(1, 16 - width));
}

class UsageError extends Error {}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  loadDotEnv();
  const config = loadConfig();
  switch (command) {
    case 'serve': {
      const { serve } = await import('./server.js');
      await serve(config);
      return -1;
    }
    case 'ask':
      return ask(config, rest);
    case 'kb':
      if (rest[0] === 'lint') return lint(config);
      if (rest[0] === 'export') return exportEntries(config);
      throw new UsageError(`未知的 kb 子命令：${rest[0] ?? '（空）'}`);
    case 'eval':
      return evaluate(config, rest);
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(`${USAGE}\n`);
      return command === undefined ? 2 : 0;
    default:
      throw new UsageError(`未知命令：${command}`);
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exitCode = code;
  },
  (err: unknown) => {
    if (err instanceof ConfigError || err instanceof UsageError) {
      process.stderr.write(`${err.message}\n${err instanceof UsageError ? `${USAGE}\n` : ''}`);
      process.exitCode = 2;
    } else {
      process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exitCode = 1;
    }
  },
);
