import { reactive } from 'vue';
import { ApiError, request, type RequestOptions } from '../api';
import type { Account } from '../types';

/**
 * Who is signed in. The token is kept in sessionStorage: it survives a reload but not the closing
 * of the tab, and is never sent anywhere but this service's API (no cookie, so no CSRF either).
 */
const KEY = 'chunfeng.token';

function stored(): string | null {
  try {
    return sessionStorage.getItem(KEY);
  } catch {
    return null;
  }
}

/** The token and the account it signs in; `me` is null until /api/me has answered. */
export const session = reactive<{ token: string | null; me: Account | null }>({ token: stored(), me: null });

/** Signs in with a token: /api/me must accept it. Throws ApiError (401 for a wrong token or a disabled account). */
export async function signIn(token: string): Promise<Account> {
  const me = await request<Account>('/api/me', { token });
  session.token = token;
  session.me = me;
  try {
    sessionStorage.setItem(KEY, token);
  } catch {
    // Storage refused: signed in for this page only.
  }
  return me;
}

/** Forgets the token. */
export function signOut(): void {
  session.token = null;
  session.me = null;
  try {
    sessionStorage.removeItem(KEY);
  } catch {
    // Nothing was stored.
  }
}

let expired: () => void = () => undefined;

/** What to do when the API stops taking the token (set by main.ts: back to the sign-in page). */
export function onExpired(handler: () => void): void {
  expired = handler;
}

/** A request with the signed-in token. A 401 means the token no longer works (disabled, or changed): sign out and go to sign-in. */
export async function call<T>(path: string, options: Omit<RequestOptions, 'token'> = {}): Promise<T> {
  try {
    return await request<T>(path, { ...options, token: session.token });
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) {
      signOut();
      expired();
    }
    throw err;
  }
}
