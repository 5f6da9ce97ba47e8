import type { Analyzer } from '../text/analyze.js';
import type { Citation } from './answer.js';
import { NUMERAL, parseChineseNumber } from './statute-ref.js';
import type { StatuteSearch } from './statute-search.js';
import type { Entry, Statute } from './types.js';

/** Share of the question an article of a named statute must contain to be cited. */
const CITATION_COVERAGE = 0.3;
const MAX_CITATIONS = 3;
/** Article numbers in a source line: 第二十七条、第三十一条. */
const ARTICLE_NUMBERS = new RegExp(`第(${NUMERAL})条`, 'gu');

/**
 * The statute articles backing an FAQ answer: those its sources name (《…法》第N条), and for a
 * statute named without an article (in the sources or the question), its article that best matches
 * the question. Only named statutes are cited: a free search over all statutes finds look-alikes.
 */
export class Citations {
  /** The statutes (and articles) each entry's sources name, worked out once per entry on first citation. */
  private readonly sourceRefs = new Map<string, { statute: Statute; articles: number[] }[]>();

  constructor(
    private readonly statutes: StatuteSearch,
    private readonly analyzer: Analyzer,
  ) {}

  /** Citations for an answer with `entry` to a question of `terms` that may name a statute itself. */
  cite(terms: readonly string[], entry: Entry, named?: Statute): Citation[] {
    if (this.statutes.size === 0) return [];
    const found = new Map<string, Citation>();
    const add = (e: Entry | undefined): void => void (e && found.set(e.id, { id: e.id, title: e.title }));
    const bestIn = (statute: Statute): void => {
      const best = this.statutes.searchWithin(terms, statute)[0];
      if (best && best.coverage >= CITATION_COVERAGE) add(best.entry);
    };
    for (const { statute, articles } of this.namedIn(entry)) {
      if (articles.length === 0) bestIn(statute);
      for (const n of articles) add(this.statutes.article(statute, n));
    }
    if (named) bestIn(named);
    return [...found.values()].slice(0, MAX_CITATIONS);
  }

  /** The statutes an entry's sources name, with the article numbers given for each. */
  private namedIn(entry: Entry): { statute: Statute; articles: number[] }[] {
    let refs = this.sourceRefs.get(entry.id);
    if (!refs) {
      refs = entry.sources.flatMap((source) => {
        const normalized = this.analyzer.analyze(source).normalized;
        const ref = this.statutes.find(normalized);
        if (!ref) return [];
        const articles = [...normalized.matchAll(ARTICLE_NUMBERS)].map((m) => parseChineseNumber(m[1] as string)).filter(Number.isFinite);
        return [{ statute: ref.statute, articles }];
      });
      this.sourceRefs.set(entry.id, refs);
    }
    return refs;
  }
}
