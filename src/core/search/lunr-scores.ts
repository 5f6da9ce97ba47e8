import type lunr from 'lunr';

/** A document that matched, with lunr's score and the query terms it contains. */
export interface ScoredRef {
  readonly ref: string;
  readonly score: number;
  readonly matched: string[];
}

/** The parts of a lunr index that its scores come from. */
interface IndexData {
  readonly invertedIndex: Record<string, { readonly _index: number }>;
  readonly fieldVectors: Record<string, { readonly elements: readonly number[] }>;
}

/**
 * lunr's scores for a query of exact terms with boosts, read straight from a lunr index's field
 * vectors. lunr scores a document as the sum over its fields of the query vector's dot product with
 * the field vector, divided by the query vector's length; the query vector holds each query term the
 * index knows, weighted by its boost. With terms that are exact words (no wildcards, no typos, no
 * pipeline, as all our queries are) that is a weighted sum per document of per-term values that can
 * be added up across fields once, at load. lunr's own query reaches the same numbers through a token
 * set of every indexed word and an object per matching field, which made it the largest cost of an
 * ask; lunr still builds, saves and loads the index.
 */
export class LunrScores {
  /** Per term: per document, the term's values in the document's field vectors, added up. */
  private readonly byTerm = new Map<string, Map<string, number>>();

  constructor(index: lunr.Index) {
    const { invertedIndex, fieldVectors } = index as unknown as IndexData;
    const termAt: string[] = [];
    for (const [term, posting] of Object.entries(invertedIndex)) termAt[posting._index] = term;
    for (const [fieldRef, vector] of Object.entries(fieldVectors)) {
      // A field ref is "field/docRef" (lunr.FieldRef).
      const ref = fieldRef.slice(fieldRef.indexOf('/') + 1);
      const { elements } = vector;
      for (let i = 0; i + 1 < elements.length; i += 2) {
        const term = termAt[elements[i] as number];
        if (term === undefined) continue;
        let docs = this.byTerm.get(term);
        if (!docs) this.byTerm.set(term, (docs = new Map()));
        docs.set(ref, (docs.get(ref) ?? 0) + (elements[i + 1] as number));
      }
    }
  }

  /** Documents containing any of the terms, best first, as lunr's `query.term(t, { boost, usePipeline: false })` ranks them. */
  search(terms: ReadonlyMap<string, number>): ScoredRef[] {
    let norm = 0;
    const found = new Map<string, { ref: string; score: number; matched: string[] }>();
    for (const [term, boost] of terms) {
      const docs = this.byTerm.get(term);
      if (!docs) continue;
      norm += boost * boost;
      for (const [ref, value] of docs) {
        let hit = found.get(ref);
        if (!hit) found.set(ref, (hit = { ref, score: 0, matched: [] }));
        hit.score += boost * value;
        hit.matched.push(term);
      }
    }
    const length = Math.sqrt(norm);
    const results = [...found.values()];
    for (const r of results) r.score = length > 0 ? r.score / length : 0;
    return results.sort((a, b) => b.score - a.score);
  }
}
