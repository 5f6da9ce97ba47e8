import { beforeAll, describe, expect, it } from 'vitest';
import { createAnalyzer, type Analyzer, type Cut, type Lexicon } from '../../../src/core/text/analyze.js';
import { loadKnowledge } from '../../../src/knowledge/load.js';
import { REAL_KNOWLEDGE, sharedSegmenter } from '../../helpers/knowledge.js';

/** A tiny segmenter: longest dictionary word first, a run of Latin letters or digits as one word, else one character. */
function dictionaryCut(words: readonly string[]): Cut {
  const longestFirst = [...words].sort((a, b) => b.length - a.length);
  return (text) => {
    const out: string[] = [];
    for (let i = 0; i < text.length; ) {
      const word = longestFirst.find((w) => text.startsWith(w, i)) ?? /^[a-z0-9]+/.exec(text.slice(i))?.[0] ?? (text[i] as string);
      out.push(word);
      i += word.length;
    }
    return out;
  };
}

const lexicon: Lexicon = {
  synonyms: new Map([
    ['个税', '个人所得税'],
    ['留底退税', '留抵退税'],
    ['数电票', '数电发票'],
  ]),
  stopwords: new Set(['的', '吗', '怎么', '请问', '了', '能', '我']),
  smallTalk: new Set(['你好', '谢谢', '谢谢你', '老师好', '嗯', '早']),
};
const WORDS = ['个人所得税', '个税', '汇算', '留抵退税', '留底退税', '数电发票', '数电票', '发票', '丢失', '怎么', '请问', '你好', '谢谢你', '谢谢', '老师好', '申请'];
const analyzer = createAnalyzer(dictionaryCut(WORDS), lexicon);

describe('analyze: synonyms', () => {
  it('replaces an alias with its canonical word', () => {
    expect(analyzer.analyze('个税怎么汇算').terms).toEqual(['个人所得税', '汇算']);
    expect(analyzer.analyze('留底退税怎么申请').terms).toEqual(['留抵退税', '申请']);
  });

  it('gives a question with the alias the same terms as one with the canonical word', () => {
    expect(analyzer.analyze('數電票丟失了').terms).toEqual(analyzer.analyze('数电发票丢失了').terms);
  });

  it('works on normalised input: traditional, full-width, mentions', () => {
    const a = analyzer.analyze('@春风税务助手\u2005請問個稅怎麼匯算？');
    expect(a.normalized).toBe('请问个税怎么汇算?');
    expect(a.terms).toEqual(['个人所得税', '汇算']);
  });
});

describe('analyze: stopwords and small talk', () => {
  it('drops stopwords from the terms', () => {
    const { terms } = analyzer.analyze('请问我的发票丢失了怎么办');
    expect(terms).not.toContain('请问');
    expect(terms).not.toContain('的');
    expect(terms).not.toContain('了');
    expect(terms).toEqual(expect.arrayContaining(['发票', '丢失']));
  });

  it('keeps repeats in order (the index counts them)', () => {
    expect(analyzer.analyze('发票 发票 丢失').terms).toEqual(['发票', '发票', '丢失']);
  });

  it.each(['你好', '谢谢', '谢谢你！', '你好，谢谢', '老师好～', '嗯', '早', '嗯嗯', '你好 请问'])('%s is small talk with no terms', (text) => {
    const a = analyzer.analyze(text);
    expect(a.terms).toEqual([]);
    expect(a.smallTalk).toBe(true);
  });

  it('a greeting with a question is not small talk, and the greeting is not a term', () => {
    const a = analyzer.analyze('你好，个税怎么汇算');
    expect(a.smallTalk).toBe(false);
    expect(a.terms).toEqual(['个人所得税', '汇算']);
  });

  it('a message with no words at all is not small talk', () => {
    for (const text of ['', '？？？', '😊', '...', '的吗']) {
      const a = analyzer.analyze(text);
      expect(a.terms, text).toEqual([]);
      expect(a.smallTalk, text).toBe(false);
    }
  });
});

describe('analyze: terms are safe for lunr', () => {
  /** The worst segmenter for this purpose: it keeps every character of a space-separated chunk. */
  const raw = createAnalyzer((text) => text.split(' '), lexicon);
  const TERM = /^[\p{Script=Han}a-z0-9]+$/u;

  it('strips lunr operators (* ~ : + - ^) out of the words', () => {
    const { terms } = raw.analyze('title:发票 +丢失 -作废 发票~2 数电* ^10 a+b');
    expect(terms).toEqual(['title发票', '丢失', '作废', '发票2', '数电', '10', 'ab']);
  });

  it('drops words made only of operators', () => {
    expect(raw.analyze('* ~ : + - ^ ~1').terms).toEqual(['1']);
  });

  it('never yields a term with anything but Han characters, Latin letters and digits', () => {
    let seed = 7;
    const random = (): number => ((seed = (seed * 48271) % 2147483647) / 2147483647);
    const alphabet = [...'*~:+-^\\/()[]{}"\'!?.,;@#$%&=<>|`发票个税留抵退税aZ09 \t\u3000\u2005😊★é']; // mixed on purpose
    for (let n = 0; n < 500; n++) {
      const text = Array.from({ length: 1 + Math.floor(random() * 30) }, () => alphabet[Math.floor(random() * alphabet.length)]).join('');
      for (const a of [raw, analyzer]) for (const t of a.analyze(text).terms) expect(t, JSON.stringify(text)).toMatch(TERM);
    }
  });
});

describe('analyze with nodejieba and the real word lists', () => {
  let real: Analyzer;
  beforeAll(() => {
    const knowledge = loadKnowledge(REAL_KNOWLEDGE, []);
    real = createAnalyzer(sharedSegmenter(knowledge.words), knowledge.lexicon);
  });

  it('canonicalises the synonyms of synonyms.txt', () => {
    expect(real.analyze('个税怎么汇算').terms).toContain('个人所得税');
    expect(real.analyze('数电票怎么开').terms).toContain('数电发票');
    expect(real.analyze('个税怎么汇算').terms).not.toContain('个税');
  });

  it('knows the greetings of smalltalk.txt', () => {
    expect(real.analyze('老师你好！谢谢').smallTalk).toBe(true);
    expect(real.analyze('在吗').smallTalk).toBe(true);
    expect(real.analyze('在吗，发票丢了怎么办').smallTalk).toBe(false);
  });
});
