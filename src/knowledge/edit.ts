import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { isSeq, parseDocument, stringify } from 'yaml';
import { normalize } from '../core/text/normalize.js';
import { KNOWLEDGE_FILES, markdownFiles } from './load.js';
import { parseEntryFile, parseListFile, type Finding } from './parse.js';

/**
 * Changes to the knowledge folder made from the console: alternative questions added to an entry,
 * and new entries. They are ordinary file changes, so the folder stays the reviewable source of
 * truth (README: how they get into version control).
 */

/** A new FAQ entry as staff fill in the form. */
export interface EntryDraft {
  readonly id: string;
  readonly title: string;
  readonly category: string;
  readonly questions: readonly string[];
  readonly keywords: readonly string[];
  readonly sources: readonly string[];
  readonly answer: string;
  readonly validFrom?: string | null;
  readonly validUntil?: string | null;
}

/** The id a file's front matter gives, read without parsing the whole file. */
function idOf(text: string): string | null {
  const front = /^\uFEFF?---\r?\n([\s\S]*?)\r?\n---/.exec(text)?.[1] ?? '';
  return /^id:\s*["']?([^\s"']+)/m.exec(front)?.[1] ?? null;
}

/** The file (relative to the folder, with `/`) that holds entry `id`, or null. */
export function entryPath(knowledgeDir: string, id: string): string | null {
  for (const path of markdownFiles(knowledgeDir)) {
    if (idOf(readFileSync(path, 'utf8')) === id) return relative(knowledgeDir, path).split(sep).join('/');
  }
  return null;
}

/** A path inside the folder for a relative path, or null when it would lead out of it. */
export function insideFolder(knowledgeDir: string, path: string): string | null {
  const full = resolve(knowledgeDir, path);
  return full.startsWith(resolve(knowledgeDir) + sep) ? full : null;
}

/**
 * An entry file with `phrasings` added to its `questions` (those it already has, compared after
 * normalising, are left out); the rest of the file is kept as it was.
 */
export function withQuestions(text: string, phrasings: readonly string[]): { text: string; added: string[] } {
  const lines = text.split('\n');
  const end = lines.findIndex((l, i) => i > 0 && l.trim() === '---');
  if (lines[0]?.replace(/^\uFEFF/, '').trim() !== '---' || end < 0) throw new Error('条目文件缺少前言');
  const doc = parseDocument(lines.slice(1, end).join('\n'));
  const node = doc.get('questions');
  const existing = isSeq(node) ? node.items.map((i) => normalize(String((i as { value?: unknown }).value ?? ''))) : [];
  const known = new Set(existing);
  const added: string[] = [];
  for (const p of phrasings) {
    const n = normalize(p);
    if (!n || known.has(n)) continue;
    known.add(n);
    added.push(p);
  }
  if (added.length === 0) return { text, added };
  if (isSeq(node)) for (const p of added) node.add(doc.createNode(p));
  else doc.set('questions', doc.createNode(added));
  const front = doc.toString({ lineWidth: 0 }).replace(/\n$/, '');
  return { text: [lines[0], front, ...lines.slice(end)].join('\n'), added };
}

/** The file of a new FAQ entry, front matter as in the folder's other entries. */
export function draftText(draft: EntryDraft): string {
  const front: Record<string, unknown> = {
    id: draft.id, kind: 'faq', title: draft.title, category: draft.category, questions: [...draft.questions], keywords: [...draft.keywords], sources: [...draft.sources],
  };
  if (draft.validFrom) front.valid_from = draft.validFrom;
  if (draft.validUntil) front.valid_until = draft.validUntil;
  return `---\n${stringify(front, { lineWidth: 0 })}---\n${draft.answer.trim()}\n`;
}

/** Where a new entry goes: `faq/<id>.md`. */
export function draftPath(id: string): string {
  return `faq/${id}.md`;
}

/**
 * What `kb lint` would say about a new entry in this folder: the file's own checks (fields, number of
 * phrasings, answer length, dates), a duplicate id, an unknown category.
 */
export function checkDraft(knowledgeDir: string, draft: EntryDraft): Finding[] {
  const path = draftPath(draft.id);
  const findings = parseEntryFile(path, draftText(draft), 'faq').findings;
  if (/^[a-z0-9][a-z0-9-]*[a-z0-9]$/.test(draft.id) && entryPath(knowledgeDir, draft.id) !== null) {
    findings.push({ file: path, line: 2, message: `id“${draft.id}”已被其他条目使用`, severity: 'error' });
  }
  const categories = join(knowledgeDir, KNOWLEDGE_FILES.categories);
  if (existsSync(categories)) {
    const names = new Set(parseListFile(readFileSync(categories, 'utf8'), /\s+/).map((l) => l.fields[0]));
    if (!names.has(draft.category)) findings.push({ file: path, line: 5, message: `分类“${draft.category}”不在 ${KNOWLEDGE_FILES.categories} 中`, severity: 'warning' });
  }
  return findings;
}

/** Writes a file whole or not at all (a reload reading it meanwhile sees the old or the new text). */
export function writeWhole(path: string, text: string): void {
  mkdirSync(dirname(path), { recursive: true });
  const temporary = `${path}.${process.pid}.tmp`;
  writeFileSync(temporary, text);
  renameSync(temporary, path);
}
