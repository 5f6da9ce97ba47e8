// Our index against MiniSearch and FlexSearch, made fair: the same FAQ and referral entries, the same
// tokenizer (the project's analyzer: normalize, then jieba + lexicon terms, sound-alike reading not
// included for the others), the same questions, and each peer given the score threshold that
// declines the same share of out-of-scope questions as our decision does on that set. Then, per set:
// answered right (share of the questions that have an entry), answered wrong (share of all
// questions: another entry, or any answer to a question to decline), and the latency.
//
//   node bench/compare.js [set.jsonl ...]     (default: dev, own, tune, real, holdout)
import { performance } from 'node:perf_hooks';
import MiniSearch from 'minisearch';
import { Document } from 'flexsearch';
import { KNOWLEDGE_DIR, DEV_SET, OWN_SET, ROOT, latencyStats, machineLine, ms, printTable, readCases, requireInputs, sharedCacheDir, summary } from './lib.js';
import { join } from 'node:path';

requireInputs();
const { loadKnowledge } = await import('../dist/knowledge/load.js');
const { jiebaSegmenter } = await import('../dist/knowledge/jieba.js');
const { createAnalyzer } = await import('../dist/core/text/analyze.js');
const { normalize } = await import('../dist/core/text/normalize.js');
const { SearchIndex } = await import('../dist/core/search/index.js');

/** The field boosts of our FAQ index (src/core/search/faq-ranking.ts), given to the others. */
const BOOST = { title: 3, questions: 2, keywords: 2, answer: 1 };
const FIELDS = Object.keys(BOOST);
const SETS = process.argv.length > 2
  ? process.argv.slice(2).map((file) => ({ name: file.split('/').pop().replace(/\.jsonl$/, ''), file }))
  : [
    { name: 'dev', file: DEV_SET },
    { name: 'own', file: OWN_SET },
    { name: 'tune', file: join(ROOT, 'test/eval/tune.jsonl') },
    { name: 'real', file: join(ROOT, 'test/eval/real.jsonl') },
    { name: 'holdout', file: join(ROOT, 'test/eval/holdout.jsonl') },
  ];

const knowledge = loadKnowledge(KNOWLEDGE_DIR, []);
const entries = knowledge.entries.filter((e) => e.kind !== 'policy');
const known = new Set(knowledge.entries.map((e) => e.id));
const analyzer = createAnalyzer(jiebaSegmenter(sharedCacheDir('knowledge'), knowledge.words), knowledge.lexicon);
const tokenize = (text) => analyzer.terms(normalize(text));
const docs = entries.map((e) => ({ id: e.id, title: e.title, questions: e.questions.join('。'), keywords: e.keywords.join(' '), answer: e.answer }));

/** Each engine: build() once, then search(q) -> { id, score } of its best hit, or our decision. */
const ours = SearchIndex.build(knowledge.entries, [], analyzer, knowledge.lexicon);
const engines = [
  {
    name: '春风（判定）',
    decides: true,
    search: (q) => {
      const a = ours.ask(q);
      return { id: a.answered ? a.id : null, referral: a.kind === 'referral' };
    },
  },
  {
    name: 'MiniSearch（BM25+，字段加权）',
    search: (() => {
      const options = { tokenize, processTerm: (t) => t };
      const mini = new MiniSearch({ idField: 'id', fields: FIELDS, ...options, searchOptions: { ...options, boost: BOOST } });
      mini.addAll(docs);
      return (q) => {
        const [best] = mini.search(q);
        return best ? { id: best.id, score: best.score } : { id: null, score: 0 };
      };
    })(),
  },
  {
    name: 'FlexSearch（各字段名次按权重合并）',
    search: (() => {
      // FlexSearch returns ranked ids per field, no scores: each field's list adds boost / (1 + rank).
      const flex = new Document({ document: { id: 'id', index: FIELDS.map((field) => ({ field, tokenize: 'strict', encode: tokenize })) } });
      for (const d of docs) flex.add(d);
      return (q) => {
        const score = new Map();
        for (const { field, result } of flex.search({ query: q, suggest: true, limit: 10 })) {
          result.forEach((id, rank) => score.set(id, (score.get(id) ?? 0) + BOOST[field] / (1 + rank)));
        }
        const [best] = [...score].sort((a, b) => b[1] - a[1]);
        return best ? { id: best[0], score: best[1] } : { id: null, score: 0 };
      };
    })(),
  },
];
const kindOf = new Map(entries.map((e) => [e.id, e.kind]));

/** Right and wrong answers on a set when answering from `threshold` on (peers) or as decided (ours). */
function tally(cases, results, threshold) {
  let inScope = 0;
  let right = 0;
  let wrong = 0;
  let declined = 0;
  let outOfScope = 0;
  cases.forEach((c, i) => {
    const r = results[i];
    const id = threshold === undefined ? r.id : r.score >= threshold ? r.id : null;
    const referral = id !== null && kindOf.get(id) === 'referral';
    if (c.topic) {
      inScope++;
      if (id === c.topic) right++;
      else if (id !== null) wrong++;
    } else {
      outOfScope++;
      if (id === null || referral) declined++;
      else wrong++;
    }
  });
  return { inScope, right, wrong, declined, outOfScope, all: cases.length };
}

/** The smallest threshold at which the peer declines at least `share` of the out-of-scope questions. */
function matchingThreshold(cases, results, share) {
  const candidates = [...new Set(results.map((r) => r.score))].sort((a, b) => a - b);
  for (const t of [0, ...candidates.map((s) => s + 1e-9)]) {
    const { declined, outOfScope } = tally(cases, results, t);
    if (outOfScope === 0 || declined / outOfScope >= share) return t;
  }
  return Number.POSITIVE_INFINITY;
}

const pct = (a, b) => (b === 0 ? '-' : `${((100 * a) / b).toFixed(1)}%`);
console.log('== 同一批条目、同一分词器、同一批问题、同一拒答率：春风 vs MiniSearch vs FlexSearch ==');
console.log(machineLine());
console.log(`条目 ${docs.length}（问答与转办）；字段加权 ${JSON.stringify(BOOST)}；同行对手的分数阈值取“拒答题拒掉的比例与春风相同”的最小值\n`);
const rows = [];
const items = [];
for (const set of SETS) {
  // A question whose entry the knowledge lacks is one to decline, as in chunfeng eval.
  const cases = readCases(set.file, set.name).map((c) => ({ ...c, topic: c.topic && known.has(c.topic) ? c.topic : null }));
  if (cases.length === 0) continue;
  const ourResults = cases.map((c) => engines[0].search(c.q));
  const ourTally = tally(cases, ourResults);
  const share = ourTally.outOfScope ? ourTally.declined / ourTally.outOfScope : 0;
  for (const engine of engines) {
    const times = [];
    const results = cases.map((c) => {
      const s = performance.now();
      const r = engine.search(c.q);
      times.push(performance.now() - s);
      return r;
    });
    const threshold = engine.decides ? undefined : matchingThreshold(cases, results, share);
    const t = tally(cases, results, threshold);
    const latency = latencyStats(times);
    rows.push([set.name, engine.name, `${t.inScope}/${t.outOfScope}`, pct(t.right, t.inScope), pct(t.wrong, t.all), pct(t.declined, t.outOfScope), ms(latency.p50), ms(latency.p99)]);
    items.push({ label: `${set.name} ${engine.name}`, value: `答对 ${pct(t.right, t.inScope)}，答错 ${pct(t.wrong, t.all)}` });
  }
}
printTable(['题集', '引擎', '有答案/应拒答', '答对', '答错', '拒答（应拒答题）', 'p50', 'p99'], rows);
console.log('\n答对：有答案的题中答对的比例；答错：全部题中答错的比例（答了别的条目，或回答了应拒答的题；转办不算答错）。');
summary('compare', items);
