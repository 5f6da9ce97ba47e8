import type { LocationQuery } from 'vue-router';

/** What the report is asked for: an ISO week, or a span of days (Beijing time, both included). */
export type ReportQuery = { readonly week: string } | { readonly from: string; readonly to: string };

/** The report's period from a page's query string; null asks the API for this week so far. */
export function readQuery(query: LocationQuery): ReportQuery | null {
  const text = (v: unknown): string | null => (typeof v === 'string' && v ? v : null);
  const week = text(query.week);
  const from = text(query.from);
  const to = text(query.to);
  if (week) return { week };
  if (from && to) return { from, to };
  return null;
}

/** The query string of the API's report routes. */
export function apiQuery(q: ReportQuery | null, extra: Record<string, string> = {}): string {
  const params = new URLSearchParams({ ...(q ?? {}), ...extra });
  const text = params.toString();
  return text ? `?${text}` : '';
}
