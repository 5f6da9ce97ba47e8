import { reactive } from 'vue';
import { ApiError, request, type RequestOptions } from '../api';
import type { RouteLocationRaw } from 'vue-router';
import type { Account, AccountRole } from '../types';

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

/** The API stopped taking the token (disabled, or changed): sign out and go to sign-in. */
export function tokenRefused(): void {
  signOut();
  expired();
}

/** A request with the signed-in token; a 401 signs out ({@link tokenRefused}). */
export async function call<T>(path: string, options: Omit<RequestOptions, 'token'> = {}): Promise<T> {
  try {
    return await request<T>(path, { ...options, token: session.token });
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) tokenRefused();
    throw err;
  }
}

/** Where an account starts after signing in: agents on the ticket queue (their day's work), everyone else on the home page. */
export function landing(role: AccountRole): RouteLocationRaw {
  return role === 'agent' ? { name: 'tickets' } : { name: 'home' };
}
