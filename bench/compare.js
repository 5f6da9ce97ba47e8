// Our index against MiniSearch and FlexSearch on the same FAQ entries, with the same tokenizer (the
// project's analyzer: normalize, then jieba + lexicon terms) and the same questions (the in-scope
// dev and own questions). Top-1 / top-3: is the expected topic the best hit / among the first three.
// For our index two rows: the ranking (SearchIndex.explain hits) and the decision (SearchIndex.ask:
// top-1 only when it answers; top-3 counts the suggestions it offers instead, as `chunfeng eval`).
//
//   node bench/compare.js
import { performance } from 'node:perf_hooks';
import MiniSearch from 'minisearch';
import { Document } from 'flexsearch';
import { KNOWLEDGE_DIR, allCases, latencyStats, machineLine, ms, printTable, requireInputs, sharedCacheDir, summary } from './lib.js';

requireInputs();
const { loadKnowledge } = await import('../dist/knowledge/load.js');
const { jiebaSegmenter } = await import('../dist/knowledge/jieba.js');
const { createAnalyzer } = await import('../dist/core/text/analyze.js');
const { normalize } = await import('../dist/core/text/normalize.js');
const { SearchIndex } = await import('../dist/core/search/index.js');

/** Timed passes over the questions, after one untimed warm-up pass. */
const PASSES = 5;
/** The field boosts of our FAQ index (src/core/search/index.ts), given to the others where they take them. */
const BOOST = { title: 3, questions: 2, keywords: 2, answer: 1 };
const FIELDS = Object.keys(BOOST);

const knowledge = loadKnowledge(KNOWLEDGE_DIR, []);
const analyzer = createAnalyzer(jiebaSegmenter(sharedCacheDir('knowledge'), knowledge.words), knowledge.lexicon);
const tokenize = (text) => analyzer.terms(normalize(text));
const docs = knowledge.entries.map((e) => ({
  id: e.id, title: e.title, questions: e.questions.join('。'), keywords: e.keywords.join(' '), answer: e.answer,
}));
const cases = allCases().filter((c) => c.topic !== null);

/** Each engine: build() once, then search(q) -> { ids (ranked), answered? }. */
const engines = [
  {
    name: '春风 SearchIndex 排序（explain）',
    build() {
      const index = SearchIndex.build(knowledge.entries, [], analyzer, knowledge.lexicon);
      return (q) => ({ ids: index.explain(q).hits.map((h) => h.id) });
    },
  },
  {
    name: '春风 SearchIndex.ask（判定）',
    build() {
      const index = SearchIndex.build(knowledge.entries, [], analyzer, knowledge.lexicon);
      return (q) => {
        const a = index.ask(q);
        return { ids: a.answered ? [a.id] : a.suggestions.map((s) => s.id), answered: a.answered };
      };
    },
  },
  {
    name: 'MiniSearch（BM25+，字段加权）',
    build() {
      const options = { tokenize, processTerm: (t) => t };
      const mini = new MiniSearch({ idField: 'id', fields: FIELDS, ...options, searchOptions: { ...options, boost: BOOST } });
      mini.addAll(docs);
      return (q) => ({ ids: mini.search(q).slice(0, 10).map((r) => r.id) });
    },
  },
  {
    name: 'FlexSearch Document（suggest + merge）',
    build() {
      const flex = flexDocument();
      return (q) => ({ ids: flex.search({ query: q, suggest: true, merge: true, limit: 10 }).map((r) => r.id) });
    },
  },
  {
    name: 'FlexSearch 各字段结果按权重合并',
    build() {
      // FlexSearch has no cross-field scoring (merge lists title hits first, then questions ...):
      // here each field's ranked list adds boost / (1 + rank) to a document.
      const flex = flexDocument();
      return (q) => {
        const score = new Map();
        for (const { field, result } of flex.search({ query: q, suggest: true, limit: 10 })) {
          result.forEach((id, rank) => score.set(id, (score.get(id) ?? 0) + BOOST[field] / (1 + rank)));
        }
        return { ids: [...score].sort((a, b) => b[1] - a[1]).map(([id]) => id) };
      };
    },
  },
];

function flexDocument() {
  const flex = new Document({ document: { id: 'id', index: FIELDS.map((field) => ({ field, tokenize: 'strict', encode: tokenize })) } });
  for (const d of docs) flex.add(d);
  return flex;
}

function evaluate(engine) {
  const t = performance.now();
  const search = engine.build();
  const buildMs = performance.now() - t;
  const tally = { all: [0, 0, 0], dev: [0, 0, 0], own: [0, 0, 0] };
  let answered = 0;
  let answerable = false;
  for (const c of cases) {
    const r = search(c.q);
    if (r.answered !== undefined) answerable = true;
    if (r.answered) answered++;
    const top1 = r.ids[0] === c.topic && r.answered !== false;
    const top3 = r.ids.slice(0, 3).includes(c.topic);
    for (const key of ['all', c.source]) {
      tally[key][0]++;
      if (top1) tally[key][1]++;
      if (top3) tally[key][2]++;
    }
  }
  const times = [];
  for (let pass = 0; pass < PASSES; pass++) {
    for (const c of cases) {
      const s = performance.now();
      search(c.q);
      times.push(performance.now() - s);
    }
  }
  return { name: engine.name, buildMs, tally, answered: answerable ? answered / cases.length : null, latency: latencyStats(times) };
}

const pct = ([n, k]) => (n === 0 ? '-' : `${((100 * k) / n).toFixed(1)}%`);
console.log('== 同一批 FAQ 条目、同一分词器、同一批问题：春风 vs MiniSearch vs FlexSearch ==');
console.log(machineLine());
console.log(`条目 ${docs.length}；问题 ${cases.length}（dev ${cases.filter((c) => c.source === 'dev').length} + own ${cases.filter((c) => c.source === 'own').length}，只取有答案的题）；分词：normalize → jieba + 同义词/停用词（createAnalyzer(...).terms）`);
console.log(`字段加权 ${JSON.stringify(BOOST)}；延迟为预热后 ${PASSES} 轮的每次查询（含分词）\n`);
const results = engines.map(evaluate);
printTable(
  ['引擎', 'top-1', 'top-3', 'top-1 dev', 'top-1 own', '作答率', 'p50', 'p99', '建索引'],
  results.map((r) => [
    r.name, pct([r.tally.all[0], r.tally.all[1]]), pct([r.tally.all[0], r.tally.all[2]]), pct([r.tally.dev[0], r.tally.dev[1]]), pct([r.tally.own[0], r.tally.own[1]]),
    r.answered === null ? '—' : `${(100 * r.answered).toFixed(1)}%`, ms(r.latency.p50), ms(r.latency.p99), ms(r.buildMs),
  ]),
);
console.log('\n“判定”一行：top-1 只在作答且答对时计入；top-3 为答案或所给建议中含期望条目（同 chunfeng eval）。其余各行只排序、从不拒答。');
summary('compare', results.map((r) => ({
  label: r.name, value: `top-1 ${pct([r.tally.all[0], r.tally.all[1]])}，top-3 ${pct([r.tally.all[0], r.tally.all[2]])}，p99 ${ms(r.latency.p99)}`,
})));
