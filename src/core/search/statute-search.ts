import type { Analyzer, Lexicon } from '../text/analyze.js';
import type { Hit } from './faq-ranking.js';
import { PassageIndex } from './passages.js';
import { StatuteNames, articleLabel, shortTitle, type StatuteRef } from './statute-ref.js';
import type { Entry, Statute } from './types.js';

const CANDIDATES = 10;

/** The id of a statute article as an entry: law/税收征收管理法/51. */
function passageId(statute: Statute, article: number): string {
  return `law/${shortTitle(statute.title)}/${article}`;
}

/**
 * Statute articles: found by name and number (征管法第五十一条), searched within one statute, and
 * served as entries. Articles live in a compact BM25 index ({@link PassageIndex}), numbered in
 * statute order so that a search within one statute is a range scan.
 */
export class StatuteSearch {
  private readonly passages = new Map<string, { statute: Statute; article: number; text: string }>();
  /** Document number of each statute's first article in the passage index. */
  private readonly firstDoc = new Map<Statute, number>();
  /** Passage id of each document of the passage index. */
  private readonly docIds: string[] = [];
  private readonly names: StatuteNames;
  /** The terms of each statute's own name, left out when searching within it. */
  private readonly titleTerms = new Map<Statute, Set<string>>();

  constructor(
    readonly statutes: readonly Statute[],
    readonly index: PassageIndex,
    private readonly analyzer: Analyzer,
    lexicon: Lexicon,
  ) {
    for (const s of statutes) {
      this.firstDoc.set(s, this.docIds.length);
      for (const a of s.articles) {
        const id = passageId(s, a.number);
        this.passages.set(id, { statute: s, article: a.number, text: a.text });
        this.docIds.push(id);
      }
    }
    this.names = new StatuteNames(statutes, lexicon);
  }

  /** Builds the passage index over every article's terms. */
  static build(statutes: readonly Statute[], analyzer: Analyzer, lexicon: Lexicon): StatuteSearch {
    const index = PassageIndex.build((function* articleTerms() {
      for (const s of statutes) for (const a of s.articles) yield analyzer.terms(analyzer.analyze(a.text).normalized);
    })());
    return new StatuteSearch(statutes, index, analyzer, lexicon);
  }

  /** Number of articles. */
  get size(): number {
    return this.passages.size;
  }

  /** The statute (and article) a normalised question names, or null. */
  find(normalized: string): StatuteRef | null {
    return this.passages.size > 0 ? this.names.find(normalized) : null;
  }

  /** An article as an entry, by id (law/…/N). */
  entry(id: string): Entry | undefined {
    const p = this.passages.get(id);
    return p ? passageEntry(id, p.statute, p.article, p.text) : undefined;
  }

  /** One article of a statute as an entry, if the statute has it. */
  article(statute: Statute, article: number): Entry | undefined {
    return this.entry(passageId(statute, article));
  }

  /** Every article as an entry, in statute order (for `kb export`). */
  all(): Entry[] {
    return [...this.passages].map(([id, p]) => passageEntry(id, p.statute, p.article, p.text));
  }

  /** Articles of one statute ranked for the question's terms (the statute's own name left out). */
  searchWithin(terms: readonly string[], within: Statute): Hit[] {
    let titleTerms = this.titleTerms.get(within);
    if (!titleTerms) this.titleTerms.set(within, (titleTerms = new Set(this.analyzer.terms(shortTitle(within.title)))));
    const asked = terms.filter((t) => !(titleTerms as Set<string>).has(t));
    const query = asked.length > 0 ? asked : terms;
    const total = query.reduce((sum, t) => sum + this.index.idf(t), 0);
    if (total === 0) return [];
    const from = this.firstDoc.get(within) ?? 0;
    return this.index.search(query, from, from + within.articles.length, CANDIDATES).flatMap((h): Hit[] => {
      const entry = this.entry(this.docIds[h.doc] as string);
      const coverage = Math.min(1, h.evidence / total);
      return entry ? [{ entry, score: h.score, coverage, aboutness: coverage, evidence: h.evidence, similarity: 0, phrasing: 0 }] : [];
    });
  }
}

function passageEntry(id: string, statute: Statute, article: number, text: string): Entry {
  return {
    id, kind: 'policy', title: `《${statute.title}》${articleLabel(article)}`, category: statute.category || '法规', questions: [], keywords: [],
    answer: text, sources: [`《${statute.title}》${statute.date ? `（${statute.date}）` : ''}`], validFrom: null, validUntil: null,
    audience: {}, related: [], file: statute.file,
  };
}
