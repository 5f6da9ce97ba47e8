/** How much one user may send the bot before it slows them down. */
export interface FloodLimits {
  /** Messages allowed within one window, the one being decided included. */
  readonly maxMessages: number;
  readonly windowMs: number;
}

/**
 * Conservative: a taxpayer typing questions by hand, follow-ups and picks included, rarely sends
 * six in a minute; a script or a stuck forwarder does.
 */
export const DEFAULT_FLOOD_LIMITS: FloodLimits = { maxMessages: 6, windowMs: 60_000 };

/** What the flood rule needs to know about one user in one chat. */
export interface FloodHistory {
  /** When this user's earlier messages to the bot arrived, not counting the one being decided. */
  readonly recent: readonly Date[];
  /** When this user was last told to slow down, or null. */
  readonly warnedAt: Date | null;
}

/** `allow`: handle the message; `warn`: send the one warning instead; `drop`: say nothing. */
export type FloodVerdict = 'allow' | 'warn' | 'drop';

/**
 * The flood rule over a sliding window: within the limit, allow; over it, one warning per window,
 * then silence until the user slows down. A warning is due again only once the previous one has
 * left the window, so a user who keeps flooding hears it once a window at most.
 */
export function checkFlood(history: FloodHistory, now: Date, limits: FloodLimits = DEFAULT_FLOOD_LIMITS): FloodVerdict {
  const since = now.getTime() - limits.windowMs;
  // Timestamps after `now` still count: channel clocks round (Telegram to the second), and a flood must not slip through on it.
  const inWindow = history.recent.filter((t) => t.getTime() > since).length;
  if (inWindow + 1 <= limits.maxMessages) return 'allow';
  const warned = history.warnedAt !== null && history.warnedAt.getTime() > since;
  return warned ? 'drop' : 'warn';
}
