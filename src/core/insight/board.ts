/** Counts of one topic in a period and the one before it. */
export interface TopicCount {
  readonly id: string;
  readonly count: number;
  readonly previous: number;
}

/** A row of the hot-questions board. */
export interface BoardRow extends TopicCount {
  readonly title: string;
  /** `count - previous`: positive when the topic is rising. */
  readonly change: number;
}

/**
 * Adds up partial counts of the same topics (the days already rolled up and the days counted live),
 * and ranks them: most asked in the period first, then the most rising, then by id so the order is
 * stable. Topics asked only in the previous period are kept (count 0): they are falling.
 */
export function rankTopics(parts: readonly (readonly TopicCount[])[], title: (id: string) => string): BoardRow[] {
  const sums = new Map<string, { count: number; previous: number }>();
  for (const part of parts) {
    for (const t of part) {
      const s = sums.get(t.id) ?? { count: 0, previous: 0 };
      s.count += t.count;
      s.previous += t.previous;
      sums.set(t.id, s);
    }
  }
  return [...sums]
    .filter(([, s]) => s.count + s.previous > 0)
    .map(([id, s]) => ({ id, title: title(id), count: s.count, previous: s.previous, change: s.count - s.previous }))
    .sort((a, b) => b.count - a.count || b.change - a.change || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}
