import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { Segmenter } from '../core/text/analyze.js';

const require = createRequire(import.meta.url);
const nodejieba = require('nodejieba') as typeof import('nodejieba') & { DEFAULT_DICT: string; DEFAULT_STOP_WORD_DICT: string };

/**
 * Words kept from nodejieba's main dictionary, most frequent first. Loading all 349k words builds a
 * trie for about a second, which alone would break the 1.5 s cold start of `chunfeng ask`; the 120k
 * most frequent load in about 0.3 s and segment our questions the same (bench/segmentation measured
 * it). Domain words the trimmed list lacks come back through the tax dictionary.
 */
export const MAIN_DICT_WORDS = 120_000;

/**
 * Names the segmenter's dictionary: the nodejieba release it comes from and how much of it is kept.
 * Part of the trimmed file's name and of the saved index's fingerprint, so an upgrade that changes
 * the dictionary rebuilds both.
 */
export const DICTIONARY_VERSION = `${(require('nodejieba/package.json') as { version: string }).version}-${MAIN_DICT_WORDS}`;

let loaded = false;
const inserted = new Set<string>();

/**
 * Writes the trimmed main dictionary once into the cache folder and returns its path. A folder that
 * cannot be written (read-only disk, a file in the way) costs a slower start, not a failure: the
 * full dictionary is used.
 */
function trimmedMainDictionary(cacheDir: string): string {
  const path = join(cacheDir, `jieba-main-${DICTIONARY_VERSION}.utf8`);
  if (existsSync(path)) return path;
  const lines = readFileSync(nodejieba.DEFAULT_DICT, 'utf8').split('\n').filter(Boolean);
  const freq = (line: string): number => Number(line.split(' ')[1]) || 0;
  const top = lines.sort((a, b) => freq(b) - freq(a)).slice(0, MAIN_DICT_WORDS);
  try {
    mkdirSync(cacheDir, { recursive: true });
    const tmp = `${path}.${process.pid}.tmp`;
    writeFileSync(tmp, `${top.join('\n')}\n`);
    renameSync(tmp, path);
    return path;
  } catch {
    return nodejieba.DEFAULT_DICT;
  }
}

/**
 * nodejieba's segmenter (search mode, HMM on) with `words` kept whole. nodejieba holds one
 * dictionary per process and `load()` replaces it, so it is loaded once and further words are
 * added with `insertWord`, which is additive: several knowledge folders can share a process.
 * A word is in the dictionary when segmenting it without the HMM (which joins unknown characters
 * into new words) leaves it whole. Its specificity is the idf of nodejieba's general corpus, as its
 * keyword extraction reads it (the corpus median for words it lacks; 0 for single characters and
 * function words, which it drops).
 */
export function jiebaSegmenter(cacheDir: string, words: Iterable<string>): Segmenter {
  if (!loaded) {
    nodejieba.load({ dict: trimmedMainDictionary(cacheDir) });
    loaded = true;
  }
  for (const w of words) {
    if (!inserted.has(w)) {
      nodejieba.insertWord(w);
      inserted.add(w);
    }
  }
  return {
    cut: (text) => nodejieba.cutForSearch(text, true),
    isWord: (word) => word.length > 0 && nodejieba.cut(word, false).length === 1,
    // Keyword extraction drops single characters and its stop words: those are plain language.
    specificity: (word) => nodejieba.extract(word, 1)[0]?.weight ?? 0,
  };
}

/** The stop words that ship with nodejieba (function words such as 的, 怎么, 哪些). */
export function jiebaStopwords(): string[] {
  return readFileSync(nodejieba.DEFAULT_STOP_WORD_DICT, 'utf8').split(/\r?\n/).map((w) => w.trim()).filter(Boolean);
}
