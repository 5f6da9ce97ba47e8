/** Where the browser keeps its conversation id. */
const KEY = 'chunfeng.session';

/** The id for this page's lifetime, where storage is refused. */
let fallback: string | undefined;

/** 16 random bytes as 32 hex characters: the API takes 16-64 letters, digits, _ or -. */
function randomId(): string {
  // getRandomValues, not randomUUID: the latter exists only on HTTPS pages, and an office may open this page over plain HTTP.
  return Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, '0')).join('');
}

/**
 * This browser's conversation id, sent with every question so the service keeps the browser's
 * questions together (and, once people can take over web conversations, can find this one). Kept in
 * localStorage so it survives a reload; it names no one and holds nothing but randomness. Where
 * storage is refused (private windows of some browsers), the id lasts as long as the page.
 */
export function sessionId(): string {
  try {
    const kept = localStorage.getItem(KEY);
    if (kept && /^[0-9a-f]{32}$/.test(kept)) return kept;
    const made = randomId();
    localStorage.setItem(KEY, made);
    return made;
  } catch {
    return (fallback ??= randomId());
  }
}

