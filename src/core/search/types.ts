/** Targeting tags of an entry: profile field -> accepted values (any-of within a field). */
export type Audience = Readonly<Record<string, readonly string[]>>;

/**
 * What an entry is: `faq`, an answer of ours; `policy`, a policy summary or statute article;
 * `referral`, a matter another authority handles (会计分录, 社保待遇, 医保报销, 营业执照), answered
 * with whom to turn to, and counted as a referral, never as an answer of ours.
 */
export type EntryKind = 'faq' | 'policy' | 'referral';

/** One piece of knowledge the bot can answer with: a FAQ entry, a policy summary, a referral or a statute article. */
export interface Entry {
  readonly id: string;
  readonly kind: EntryKind;
  readonly title: string;
  readonly category: string;
  readonly questions: readonly string[];
  readonly keywords: readonly string[];
  readonly answer: string;
  readonly sources: readonly string[];
  readonly validFrom: string | null;
  readonly validUntil: string | null;
  readonly audience: Audience;
  /** Ids of entries this one belongs with (a policy summary lists the FAQ entries it explains). */
  readonly related: readonly string[];
  /** Where the entry came from, for error messages and `kb lint`. */
  readonly file: string;
}

/** A statute split into articles, cited as 《title》第N条. */
export interface Statute {
  /** Full title, e.g. 中华人民共和国税收征收管理法. */
  readonly title: string;
  /** Date in the source file name (promulgation or last amendment), YYYY-MM-DD, or null. */
  readonly date: string | null;
  readonly category: string;
  readonly articles: readonly Article[];
  readonly file: string;
}

/** One article of a statute. */
export interface Article {
  /** Article number (第五十一条 -> 51). */
  readonly number: number;
  readonly text: string;
}

/** A problem found while loading knowledge: where it is and what is wrong. */
export interface Problem {
  readonly file: string;
  readonly line: number;
  readonly message: string;
}
