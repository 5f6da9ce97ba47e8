import type { Article, Statute } from '../core/search/types.js';
import { NUMERAL, WHOLE_TEXT, parseChineseNumber } from '../core/search/statute-ref.js';

const ARTICLE_START = new RegExp(`^第(${NUMERAL})条(?:之[一二三四五六七八九十]+)?(?:[\\s\\u3000]+|$)`, 'u');

/**
 * Splits a statute in the format of the shared laws corpus into articles: `# 标题`, promulgation
 * history, `<!-- INFO END -->`, chapter headings (`##`, `###`), one article per paragraph starting 第N条,
 * possibly running over further paragraphs; a document without numbered articles is one passage
 * numbered {@link WHOLE_TEXT}. Returns null when the file has no title or no text.
 */
export function parseStatute(fileName: string, text: string): Statute | null {
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  const titleLine = lines.find((l) => l.startsWith('# '));
  if (!titleLine) return null;
  const infoEnd = lines.findIndex((l) => l.includes('<!-- INFO END -->'));
  const body = lines.slice(infoEnd >= 0 ? infoEnd + 1 : lines.indexOf(titleLine) + 1);

  const articles: Article[] = [];
  let current: { number: number; parts: string[] } | null = null;
  const flush = (): void => {
    if (current) articles.push({ number: current.number, text: current.parts.join('\n') });
    current = null;
  };
  for (const raw of body) {
    const line = raw.trim();
    if (!line) continue;
    if (line.startsWith('#')) {
      flush();
      continue;
    }
    const m = ARTICLE_START.exec(line);
    const number = m ? parseChineseNumber(m[1] as string) : Number.NaN;
    if (m && Number.isFinite(number)) {
      flush();
      current = { number, parts: [line] };
    } else current?.parts.push(line);
  }
  flush();
  // A short interpretation or notice without numbered articles is one passage: its whole text.
  if (articles.length === 0) {
    const text = body.map((l) => l.trim()).filter((l) => l && !l.startsWith('#')).join('\n');
    if (!text) return null;
    articles.push({ number: WHOLE_TEXT, text });
  }

  const base = fileName.replace(/\.md$/i, '');
  const category = base.includes('_') ? (base.split('_')[0] as string) : '';
  const date = /\((\d{4}-\d{2}-\d{2})\)$/.exec(base)?.[1] ?? null;
  return { title: titleLine.slice(2).trim(), date, category, articles, file: fileName };
}
