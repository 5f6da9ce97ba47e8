import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { normalize } from '../core/text/normalize.js';
import type { Lexicon } from '../core/text/analyze.js';
import type { Entry, EntryKind, Statute } from '../core/search/types.js';
import { chinaDay } from '../core/search/index.js';
import { parseEntryFile, parseListFile, type Finding } from './parse.js';
import { parseStatute } from './statutes.js';
import { jiebaStopwords } from './jieba.js';
import { readTicketSettings, type TicketSettings } from './tickets.js';

/** Files of the knowledge folder besides the entries. */
export const KNOWLEDGE_FILES = {
  dictionary: 'dict.txt',
  synonyms: 'synonyms.txt',
  colloquial: 'colloquial.txt',
  stopwords: 'stopwords.txt',
  smallTalk: 'smalltalk.txt',
  categories: 'categories.txt',
} as const;

/** The folder an entry file is in names its kind, unless its front matter says otherwise. */
function kindOfFolder(knowledgeDir: string, path: string): EntryKind {
  const folders = relative(knowledgeDir, path).split(/[\\/]/);
  return folders.includes('policy') ? 'policy' : folders.includes('referral') ? 'referral' : 'faq';
}

/** Everything read from the knowledge folder and the policy folders. */
export interface Knowledge {
  /** FAQ entries and policy summaries that passed validation (expired ones included: the index filters by date). */
  readonly entries: Entry[];
  readonly statutes: Statute[];
  readonly lexicon: Lexicon;
  /** Words the segmenter must keep whole: the tax dictionary and every synonym. */
  readonly words: string[];
  readonly findings: Finding[];
  /** Hash of every file read: the index cache is valid only for the same fingerprint. */
  readonly fingerprint: string;
  /** The working-day calendar and the ticket rules (knowledge/calendar/, knowledge/tickets.yaml). */
  readonly tickets: TicketSettings;
}

/** The Markdown files of a folder and its subfolders, in name order (README.md files are no entries). */
export function markdownFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...markdownFiles(path));
    else if (name.endsWith('.md') && name.toLowerCase() !== 'readme.md') out.push(path);
  }
  return out;
}

/**
 * Reads and validates the knowledge folder (entries, dictionary, synonyms, word lists) and the
 * statutes in `policyDirs` (unless `options.statutes` is false: a saved index holds them).
 * Problems are returned as findings with file and line; entries with errors are left out, so one
 * broken file never takes the others down.
 */
export function loadKnowledge(knowledgeDir: string, policyDirs: readonly string[], now = new Date(), options: { readonly statutes?: boolean } = {}): Knowledge {
  const findings: Finding[] = [];
  const hash = createHash('sha256');
  const read = (path: string): string => {
    const text = readFileSync(path, 'utf8');
    hash.update(`${path}\0${text}\0`);
    return text;
  };
  if (!existsSync(knowledgeDir) || !statSync(knowledgeDir).isDirectory()) {
    throw new Error(`知识库目录不存在：${knowledgeDir}`);
  }

  const listFile = (name: string, separator: RegExp): { file: string; lines: ReturnType<typeof parseListFile> } => {
    const file = join(knowledgeDir, name);
    return { file, lines: existsSync(file) ? parseListFile(read(file), separator) : [] };
  };

  // Colloquial and dialect words are aliases like the synonyms', kept in a file of their own for review.
  const synonyms = new Map<string, string>();
  const words = new Set<string>();
  for (const name of [KNOWLEDGE_FILES.synonyms, KNOWLEDGE_FILES.colloquial]) {
    const list = listFile(name, /[=＝]/);
    for (const { line, fields } of list.lines) {
      const [canonical, ...aliases] = fields.map(normalize);
      if (!canonical || aliases.length === 0) {
        findings.push({ file: list.file, line, message: `${name} 的行应为“标准词 = 别名 = 别名”`, severity: 'error' });
        continue;
      }
      words.add(canonical);
      for (const alias of aliases.filter((a) => a !== canonical)) {
        const earlier = synonyms.get(alias);
        if (earlier && earlier !== canonical) {
          findings.push({ file: list.file, line, message: `“${alias}”已是“${earlier}”的别名，不能再指向“${canonical}”`, severity: 'error' });
          continue;
        }
        synonyms.set(alias, canonical);
        words.add(alias);
      }
    }
  }
  for (const { fields } of listFile(KNOWLEDGE_FILES.dictionary, /\s+/).lines) words.add(normalize(fields[0] as string));
  const stopwords = new Set([...jiebaStopwords(), ...listFile(KNOWLEDGE_FILES.stopwords, /\s+/).lines.flatMap((l) => l.fields)].map(normalize));
  const smallTalk = new Set(listFile(KNOWLEDGE_FILES.smallTalk, /\s+/).lines.flatMap((l) => l.fields).map(normalize));
  for (const w of smallTalk) words.add(w);
  // One list of categories: reports and evaluation group by them, so a typo would make a new one.
  const categories = listFile(KNOWLEDGE_FILES.categories, /\s+/);
  const categoryNames = new Set(categories.lines.map((l) => l.fields[0] as string));

  const entries: Entry[] = [];
  const seen = new Map<string, string>();
  const day = chinaDay(now);
  for (const path of markdownFiles(knowledgeDir)) {
    const file = relative(process.cwd(), path) || path;
    const parsed = parseEntryFile(file, read(path), kindOfFolder(knowledgeDir, path));
    findings.push(...parsed.findings);
    const entry = parsed.entry;
    if (!entry) continue;
    const first = seen.get(entry.id);
    if (first) {
      findings.push({ file, line: parsed.idLine, message: `id“${entry.id}”与 ${first} 重复`, severity: 'error' });
      continue;
    }
    seen.set(entry.id, file);
    if (categoryNames.size > 0 && !categoryNames.has(entry.category)) {
      findings.push({ file, line: parsed.idLine, message: `分类“${entry.category}”不在 ${KNOWLEDGE_FILES.categories} 中`, severity: 'warning' });
    }
    if (entry.validUntil && entry.validUntil < day) {
      findings.push({ file, line: parsed.idLine, message: `已过有效期（valid_until ${entry.validUntil}），不再作答`, severity: 'warning' });
    }
    entries.push(entry);
  }
  for (const e of entries) {
    for (const r of e.related) {
      if (!seen.has(r)) findings.push({ file: e.file, line: 1, message: `related 中的“${r}”不是已有条目的 id`, severity: 'warning' });
    }
  }

  for (const dir of policyDirs) {
    if (!existsSync(dir)) {
      findings.push({ file: dir, line: 0, message: '政策文件目录不存在', severity: 'error' });
      continue;
    }
    // Policy folders are fingerprinted by name, size and modification time: the whole statute
    // corpus is 27 MB, and reading it only to learn it has not changed would cost every start.
    for (const path of markdownFiles(dir)) {
      const stat = statSync(path);
      hash.update(`${path}\0${stat.size}\0${stat.mtimeMs}\0`);
    }
  }
  const policy = options.statutes === false ? { statutes: [], findings: [] } : readStatutes(policyDirs);
  findings.push(...policy.findings);
  const tickets = readTicketSettings(knowledgeDir, now, read);
  findings.push(...tickets.findings);

  return {
    entries,
    statutes: policy.statutes,
    lexicon: { synonyms, stopwords, smallTalk },
    words: [...words],
    findings,
    fingerprint: hash.digest('hex'),
    tickets,
  };
}

/**
 * Reads the statutes in the policy folders, split into articles. Of two files with the same title
 * (发票管理办法 of 2019 and of 2023) the later one is kept.
 */
export function readStatutes(policyDirs: readonly string[]): { statutes: Statute[]; findings: Finding[] } {
  const findings: Finding[] = [];
  const statutes = new Map<string, Statute>();
  for (const dir of policyDirs.filter((d) => existsSync(d))) {
    for (const path of markdownFiles(dir)) {
      const statute = parseStatute(path.split(/[\\/]/).pop() as string, readFileSync(path, 'utf8'));
      if (!statute) {
        findings.push({ file: path, line: 1, message: '没有找到标题或正文，未收录', severity: 'warning' });
        continue;
      }
      const other = statutes.get(statute.title);
      if (!other || (statute.date ?? '') > (other.date ?? '')) statutes.set(statute.title, statute);
    }
  }
  return { statutes: [...statutes.values()], findings };
}
