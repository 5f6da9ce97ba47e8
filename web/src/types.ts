/** The API's JSON shapes the pages read (OpenAPI at /docs is the reference). */

/** A close entry offered when the bot is not sure. */
export interface Suggestion {
  readonly id: string;
  readonly title: string;
  readonly score: number;
}

/** The answer to one question: POST /api/ask, the same object as one `chunfeng ask --json` line. */
export interface Answer {
  readonly q: string;
  readonly answered: boolean;
  readonly id: string | null;
  readonly title: string | null;
  readonly score: number;
  readonly answer: string | null;
  readonly suggestions: Suggestion[];
  readonly reason: 'answered' | 'referred' | 'uncertain' | 'no_match' | 'small_talk' | 'empty';
  readonly sources: string[];
  readonly citations: { readonly id: string; readonly title: string }[];
}

/** What an account may do. */
export type AccountRole = 'admin' | 'staff' | 'agent';

/** An account as GET /api/me and /api/accounts show it. */
export interface Account {
  readonly id: string;
  readonly name: string;
  readonly role: AccountRole;
  readonly createdAt: string;
  readonly disabledAt: string | null;
}

/** POST /api/accounts: the new account and its token, shown this once. */
export interface CreatedAccount extends Account {
  readonly token: string;
}
