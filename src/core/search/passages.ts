/** What {@link PassageIndex.toJSON} writes: the vocabulary and the packed arrays, base64-encoded. */
export interface SerializedPassages {
  readonly terms: string[];
  readonly offsets: string;
  readonly docs: string;
  readonly tfs: string;
  readonly lengths: string;
}

/** One article found by {@link PassageIndex.search}. */
export interface PassageHit {
  readonly doc: number;
  readonly score: number;
  /** Weight (idf) of the question's terms found in the article. */
  readonly evidence: number;
}

/** BM25's inverse document frequency of a term found in `df` of `n` documents. */
export function bm25Idf(df: number, n: number): number {
  return Math.log(1 + (n - df + 0.5) / (df + 0.5));
}

const K1 = 1.2;
const B = 0.75;

function pack(array: Uint32Array | Uint16Array): string {
  return Buffer.from(array.buffer, array.byteOffset, array.byteLength).toString('base64');
}

function unpack<T extends Uint32Array | Uint16Array>(text: string, Kind: { new (buffer: ArrayBuffer): T; BYTES_PER_ELEMENT: number }): T {
  const bytes = Buffer.from(text, 'base64');
  const copy = new ArrayBuffer(bytes.byteLength);
  new Uint8Array(copy).set(bytes);
  return new Kind(copy);
}

/**
 * A compact BM25 index over statute articles. Postings live in typed arrays (document, term
 * frequency), sorted by document; documents are numbered in statute order, so a search within one
 * statute is a search over a range of documents. lunr keeps an object per posting, which for the
 * 57,000 articles of the whole statute corpus took 730 MB of heap; this takes about 15 MB.
 */
export class PassageIndex {
  private readonly vocabulary: Map<string, number>;
  private readonly averageLength: number;

  private constructor(
    terms: readonly string[],
    private readonly offsets: Uint32Array,
    private readonly docs: Uint32Array,
    private readonly tfs: Uint16Array,
    private readonly lengths: Uint32Array,
  ) {
    this.vocabulary = new Map(terms.map((t, i) => [t, i]));
    let total = 0;
    for (const l of lengths) total += l;
    this.averageLength = lengths.length > 0 ? total / lengths.length : 1;
  }

  /** Indexes documents given as their terms, in document order. */
  static build(documents: Iterable<readonly string[]>): PassageIndex {
    const postings = new Map<string, number[]>();
    const lengths: number[] = [];
    for (const terms of documents) {
      const doc = lengths.length;
      lengths.push(terms.length);
      const counts = new Map<string, number>();
      for (const t of terms) counts.set(t, (counts.get(t) ?? 0) + 1);
      for (const [t, tf] of counts) {
        let list = postings.get(t);
        if (!list) postings.set(t, (list = []));
        list.push(doc, Math.min(tf, 0xffff));
      }
    }
    const terms = [...postings.keys()];
    const offsets = new Uint32Array(terms.length + 1);
    let size = 0;
    terms.forEach((t, i) => {
      offsets[i] = size;
      size += (postings.get(t) as number[]).length / 2;
    });
    offsets[terms.length] = size;
    const docs = new Uint32Array(size);
    const tfs = new Uint16Array(size);
    terms.forEach((t, i) => {
      const list = postings.get(t) as number[];
      const start = offsets[i] as number;
      for (let j = 0; j < list.length; j += 2) {
        docs[start + j / 2] = list[j] as number;
        tfs[start + j / 2] = list[j + 1] as number;
      }
    });
    return new PassageIndex(terms, offsets, docs, tfs, Uint32Array.from(lengths));
  }

  static load(saved: SerializedPassages): PassageIndex {
    return new PassageIndex(saved.terms, unpack(saved.offsets, Uint32Array), unpack(saved.docs, Uint32Array), unpack(saved.tfs, Uint16Array), unpack(saved.lengths, Uint32Array));
  }

  toJSON(): SerializedPassages {
    return { terms: [...this.vocabulary.keys()], offsets: pack(this.offsets), docs: pack(this.docs), tfs: pack(this.tfs), lengths: pack(this.lengths) };
  }

  /** Number of documents. */
  get size(): number {
    return this.lengths.length;
  }

  /** Inverse document frequency of a term over the whole corpus (0 for an unknown term). */
  idf(term: string): number {
    const id = this.vocabulary.get(term);
    if (id === undefined) return 0;
    const df = (this.offsets[id + 1] as number) - (this.offsets[id] as number);
    return bm25Idf(df, this.size);
  }

  /** The best documents in [from, to) for the terms, by BM25, with the idf weight of the terms each contains. */
  search(terms: readonly string[], from: number, to: number, limit: number): PassageHit[] {
    const scores = new Map<number, { score: number; evidence: number }>();
    for (const term of new Set(terms)) {
      const id = this.vocabulary.get(term);
      if (id === undefined) continue;
      const idf = this.idf(term);
      let lo = this.offsets[id] as number;
      let hi = this.offsets[id + 1] as number;
      const end = hi;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if ((this.docs[mid] as number) < from) lo = mid + 1;
        else hi = mid;
      }
      for (let p = lo; p < end && (this.docs[p] as number) < to; p++) {
        const doc = this.docs[p] as number;
        const tf = this.tfs[p] as number;
        const norm = tf + K1 * (1 - B + (B * (this.lengths[doc] as number)) / this.averageLength);
        const s = scores.get(doc) ?? { score: 0, evidence: 0 };
        s.score += (idf * tf * (K1 + 1)) / norm;
        s.evidence += idf;
        scores.set(doc, s);
      }
    }
    return [...scores].map(([doc, s]) => ({ doc, score: s.score, evidence: s.evidence })).sort((a, b) => b.score - a.score).slice(0, limit);
  }
}
