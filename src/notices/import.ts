import { readProfilesCsv, type CsvEncoding, type RowError } from '../core/notices/csv.js';
import { checkProfileJson, describeError, repeatedIds, type FieldError, type ProfileField, type ValidProfile } from '../core/notices/profile.js';
import type { SubscriberRepository } from '../store/index.js';

/** What an import did: how many profiles were stored (new and updated) and every problem. */
export interface ImportCounts {
  readonly upserted: number;
  readonly created: number;
  readonly updated: number;
}

/** The report of a CSV import. */
export interface CsvImportReport extends ImportCounts {
  readonly encoding: CsvEncoding;
  /** Data rows read (blank rows not counted). */
  readonly rows: number;
  readonly errors: RowError[];
  readonly unknownColumns: string[];
}

/** One problem of one element of a JSON import (index from 0, as the contract's `errors`); the message starts with the field's name. */
export interface IndexError {
  readonly index: number;
  readonly field: ProfileField | null;
  readonly message: string;
}

/** The report of a JSON import. */
export interface JsonImportReport extends ImportCounts {
  readonly errors: IndexError[];
}

/**
 * Writes validated items and says which were refused by the store (a chat linked elsewhere): each
 * item is all or nothing, the good ones are stored whatever becomes of the others.
 */
async function write<K>(store: SubscriberRepository, valid: readonly { key: K; value: ValidProfile }[], now: Date): Promise<ImportCounts & { refused: { key: K; message: string }[] }> {
  const outcomes = await store.upsert(valid.map((v) => v.value), now);
  let created = 0;
  let updated = 0;
  const refused: { key: K; message: string }[] = [];
  outcomes.forEach((o, i) => {
    const key = (valid[i] as { key: K }).key;
    if (!o.ok) refused.push({ key, message: o.message });
    else if (o.created) created++;
    else updated++;
  });
  return { upserted: created + updated, created, updated, refused };
}

/**
 * Imports a CSV file of profiles (UTF-8 or GBK, see core/notices/csv.ts): rows with a problem are
 * reported and not written, the others upserted. Throws CsvFileError when the file as a whole
 * cannot be read (no header, a required column missing).
 */
export async function importCsv(store: SubscriberRepository, bytes: Uint8Array, now = new Date()): Promise<CsvImportReport> {
  const reading = readProfilesCsv(bytes);
  const written = await write(store, reading.valid.map((v) => ({ key: v.row, value: v.value })), now);
  const errors: RowError[] = [...reading.errors, ...written.refused.map((r) => ({ row: r.key, field: 'chats' as const, column: null, message: r.message }))].sort((a, b) => a.row - b.row);
  return { encoding: reading.encoding, rows: reading.rows, upserted: written.upserted, created: written.created, updated: written.updated, errors, unknownColumns: reading.unknownColumns };
}

/** Imports contract Profiles (a `POST /api/subscribers` body or a JSON file): elements with a problem are reported by index and not written. */
export async function importJson(store: SubscriberRepository, items: readonly unknown[], now = new Date()): Promise<JsonImportReport> {
  const checked = items.map(checkProfileJson);
  const repeats = repeatedIds(checked.map((c) => (c.ok ? c.value.update.taxpayerId : null)));
  const errors: IndexError[] = [];
  const valid: { key: number; value: ValidProfile }[] = [];
  checked.forEach((c, index) => {
    const problems: FieldError[] = c.ok ? [] : c.errors;
    const earlier = repeats.get(index);
    if (earlier !== undefined) problems.push({ field: 'taxpayerId', message: `与 index ${earlier} 的纳税人重复，同一纳税人只能出现一次` });
    if (c.ok && problems.length === 0) valid.push({ key: index, value: c.value });
    for (const p of problems) errors.push({ index, field: p.field, message: describeError(p) });
  });
  const written = await write(store, valid, now);
  for (const r of written.refused) errors.push({ index: r.key, field: 'chats', message: describeError({ field: 'chats', message: r.message }) });
  errors.sort((a, b) => a.index - b.index);
  return { upserted: written.upserted, created: written.created, updated: written.updated, errors };
}
