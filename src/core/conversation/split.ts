/** Where a sentence ends: the best place to cut a long message. */
const SENTENCE_END = new Set(['。', '！', '？', '；', '\n', '!', '?', ';']);
/**
 * Where a clause ends: the next best place. The ASCII comma and full stop are left out because
 * they sit inside figures (1,284 户, 3.5%), which must never be cut.
 */
const CLAUSE_END = new Set(['，', '、', '：']);
/** Spaces that trail a cut stay with the text before it, so the next part does not open blank. */
const TRAILING_SPACE = /[ \t\u2005\u3000\r\n]/u;

/**
 * Splits a message into parts of at most `limit` UTF-16 code units (the unit Telegram counts),
 * cutting after the last sentence end that fits, else after the last clause end, else hard at the
 * limit (never inside a surrogate pair). Joining the parts gives back the text exactly.
 */
export function splitText(text: string, limit: number): string[] {
  if (!Number.isInteger(limit) || limit < 2) throw new RangeError(`splitText: limit must be an integer of at least 2 (a surrogate pair), got ${limit}`);
  const parts: string[] = [];
  let rest = text;
  while (rest.length > limit) {
    const cut = cutPoint(rest, limit);
    parts.push(rest.slice(0, cut));
    rest = rest.slice(cut);
  }
  if (rest.length > 0 || parts.length === 0) parts.push(rest);
  return parts;
}

/** Length of the first part of `text`, which is longer than `limit`. */
function cutPoint(text: string, limit: number): number {
  const cut = lastAfter(text, limit, SENTENCE_END) ?? lastAfter(text, limit, CLAUSE_END) ?? hardCut(text, limit);
  let end = cut;
  while (end < limit && TRAILING_SPACE.test(text.charAt(end))) end++;
  return end;
}

/** The position just after the last character of `marks` within the first `limit` characters. */
function lastAfter(text: string, limit: number, marks: ReadonlySet<string>): number | null {
  for (let i = limit - 1; i >= 0; i--) if (marks.has(text.charAt(i))) return i + 1;
  return null;
}

function hardCut(text: string, limit: number): number {
  const code = text.charCodeAt(limit - 1);
  // A high surrogate at the end would leave its pair broken across two messages: both halves turn into U+FFFD.
  return code >= 0xd800 && code <= 0xdbff ? limit - 1 : limit;
}
