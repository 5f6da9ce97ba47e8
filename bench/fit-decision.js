// Fits the answer decision (DEFAULT_CONFIDENCE in src/core/search/decision.ts) on our own question
// sets: the weights of the choice model over the top candidates and "none of them" (maximum
// likelihood of the expected entry, or of none for a question to decline), then the chance from
// which the bot answers, chosen so that over the sets (each weighing alike) right answers minus COST
// times wrong answers is largest: a wrong answer is what a taxpayer acts on, so it costs several
// right ones.
//
// Never fit on test/eval/holdout.jsonl: it measures what the fit does on questions nobody tuned to.
//
//   npm run build && node bench/fit-decision.js [--cost 5] [set.jsonl ...]
//
// It prints the figures per set, before and after, and the constants to paste into decision.ts.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

const { openIndex } = await import('../dist/knowledge/open.js');
const { CANDIDATE_FEATURES, QUESTION_FEATURES, DEFAULT_CONFIDENCE, candidateFigures, decide, questionFigures } = await import('../dist/core/search/decision.js');

const { values, positionals } = parseArgs({ options: { cost: { type: 'string', default: '5' } }, allowPositionals: true });
const COST = Number(values.cost);
const sets = positionals.length > 0 ? positionals : ['test/eval/own.jsonl', 'test/eval/tune.jsonl', '../shared/eval/dev.jsonl', 'test/eval/real.jsonl'];
if (sets.some((s) => s.includes('holdout'))) throw new Error('the held-out set is never fitted on');

const { index } = openIndex({ knowledgeDir: process.env.KNOWLEDGE_DIR ?? 'knowledge', policyDirs: [], cacheDir: 'data/cache' });
const questions = sets.flatMap((file) =>
  readFileSync(file, 'utf8').split('\n').filter((l) => l.trim()).map((l) => {
    const c = JSON.parse(l);
    // A question whose entry the knowledge lacks can only be declined rightly.
    const topic = c.topic && index.entry(c.topic) ? c.topic : null;
    const { ranked } = index.candidates(c.q);
    const candidates = candidateFigures(ranked.hits);
    const right = ranked.hits.slice(0, candidates.length).findIndex((h) => h.entry.id === topic);
    return { set: file, topic, ranked, candidates, question: questionFigures(ranked.question), right };
  }));

// Conditional logit by gradient descent on standardised figures, with a little L2. The choice for a
// question is the expected candidate, or "none" when it is not among the candidates.
const kc = CANDIDATE_FEATURES.length;
const kq = QUESTION_FEATURES.length;
const stats = (rows, k) => {
  const mean = Array.from({ length: k }, (_, j) => rows.reduce((s, r) => s + r[j], 0) / rows.length);
  const sd = Array.from({ length: k }, (_, j) => Math.sqrt(rows.reduce((s, r) => s + (r[j] - mean[j]) ** 2, 0) / rows.length) || 1);
  return { mean, sd };
};
const cs = stats(questions.flatMap((q) => q.candidates), kc);
const qs = stats(questions.map((q) => q.question), kq);
const data = questions.map((q) => ({
  c: q.candidates.map((f) => f.map((v, j) => (v - cs.mean[j]) / cs.sd[j])),
  q: q.question.map((v, j) => (v - qs.mean[j]) / qs.sd[j]),
  right: q.right,
}));
let wc = new Array(kc).fill(0);
let wq = new Array(kq).fill(0);
let none = 0;
const dot = (w, x) => x.reduce((s, v, j) => s + v * w[j], 0);
for (let it = 0; it < 3000; it++) {
  const gc = new Array(kc).fill(0);
  const gq = new Array(kq).fill(0);
  let gn = 0;
  for (const d of data) {
    const scores = d.c.map((x) => dot(wc, x));
    const sNone = none + dot(wq, d.q);
    const top = Math.max(sNone, ...scores);
    const exps = scores.map((s) => Math.exp(s - top));
    const eNone = Math.exp(sNone - top);
    const total = exps.reduce((s, e) => s + e, eNone);
    d.c.forEach((x, i) => {
      const e = exps[i] / total - (d.right === i ? 1 : 0);
      x.forEach((v, j) => (gc[j] += e * v));
    });
    const eN = eNone / total - (d.right < 0 ? 1 : 0);
    d.q.forEach((v, j) => (gq[j] += eN * v));
    gn += eN;
  }
  wc = wc.map((w, j) => w - 0.3 * (gc[j] / data.length + 0.001 * w));
  wq = wq.map((w, j) => w - 0.3 * (gq[j] / data.length + 0.001 * w));
  none -= 0.3 * (gn / data.length);
}
// Back to the figures' own scale. A shift common to every candidate's score moves into "none".
const candidate = Object.fromEntries(CANDIDATE_FEATURES.map((f, j) => [f, round(wc[j] / cs.sd[j], 3)]));
const question = Object.fromEntries(QUESTION_FEATURES.map((f, j) => [f, round(wq[j] / qs.sd[j], 3)]));
const noneScore = round(none - QUESTION_FEATURES.reduce((s, _, j) => s + (wq[j] * qs.mean[j]) / qs.sd[j], 0) + CANDIDATE_FEATURES.reduce((s, _, j) => s + (wc[j] * cs.mean[j]) / cs.sd[j], 0), 3);

function figures(model) {
  const bySet = new Map();
  for (const q of questions) {
    const d = decide(q.ranked.hits, q.ranked.question, model);
    const t = bySet.get(q.set) ?? { inScope: 0, right: 0, outOfScope: 0, declined: 0, wrong: 0, all: 0 };
    t.all++;
    if (q.topic) {
      t.inScope++;
      if (d.answer?.entry.id === q.topic) t.right++;
    } else {
      t.outOfScope++;
      if (!d.answer || d.answer.entry.kind === 'referral') t.declined++;
    }
    if (d.answer && d.answer.entry.id !== q.topic && !(q.topic === null && d.answer.entry.kind === 'referral')) t.wrong++;
    bySet.set(q.set, t);
  }
  return bySet;
}

const objective = (bySet) => [...bySet.values()].reduce((s, t) => s + (t.inScope ? t.right / t.inScope : 0) - (COST * t.wrong) / t.all, 0);
let best = null;
for (let at = 0.3; at <= 0.951; at += 0.01) {
  const model = { ...DEFAULT_CONFIDENCE, candidate, question, none: noneScore, answerAt: round(at, 2) };
  const value = objective(figures(model));
  if (!best || value > best.value) best = { model, value };
}

const pct = (a, b) => (b ? `${((100 * a) / b).toFixed(1)}%` : '-');
const show = (label, model) => {
  console.log(label);
  for (const [set, t] of figures(model)) {
    console.log(`  ${set.padEnd(28)} top-1 ${pct(t.right, t.inScope).padStart(6)}  拒答 ${pct(t.declined, t.outOfScope).padStart(6)}  答错 ${pct(t.wrong, t.all).padStart(6)}`);
  }
};
show('当前 DEFAULT_CONFIDENCE：', DEFAULT_CONFIDENCE);
show(`拟合结果（答错代价 ${COST}）：`, best.model);
const { candidate: c, question: q, none: n, answerAt } = best.model;
console.log(`\ncandidate: ${JSON.stringify(c)},\nquestion: ${JSON.stringify(q)},\nnone: ${n},\nanswerAt: ${answerAt},`);

function round(n, digits) {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}
