import { describe, expect, it } from 'vitest';
import { SoundAlike, type VocabularyWord } from '../../../src/core/search/soundalike.js';

const vocabulary: VocabularyWord[] = [
  { surface: '申报', canonical: '申报', entries: 6 },
  { surface: '社会保险费', canonical: '社会保险费', entries: 2 },
  { surface: '社保', canonical: '社会保险费', entries: 2 },
  { surface: '核定', canonical: '核定', entries: 1 },
  { surface: '留抵退税', canonical: '留抵退税', entries: 5 },
  { surface: '退税', canonical: '退税', entries: 8 },
  { surface: '税费', canonical: '税费', entries: 3 },
  { surface: '发票', canonical: '发票', entries: 12 },
  { surface: '代开发票', canonical: '代开发票', entries: 1 },
  { surface: '税务局', canonical: '税务局', entries: 9 },
  { surface: '期限', canonical: '期限', entries: 3 },
  { surface: '留抵退', canonical: '留抵退税', entries: 5 },
  { surface: '水灾', canonical: '水灾', entries: 1 },
  { surface: '税', canonical: '税', entries: 4 },
  // Two words with one sound, used alike: neither is clearly meant.
  { surface: '试点', canonical: '试点', entries: 2 },
  { surface: '时点', canonical: '时点', entries: 2 },
];
const realWords = new Set(['水费', '期限', '彩票', '中奖']);
const stopwords = new Set(['怎么', '什么', '哪里']);
const layer = new SoundAlike(vocabulary, { isWord: (w) => realWords.has(w), isStopword: (w) => stopwords.has(w) }, stopwords);

describe('SoundAlike: Chinese typed by sound', () => {
  it('reads a homophone typo of a knowledge word as that word', () => {
    expect(layer.correct('申暴期限是几号')).toEqual([{ from: '申暴', to: '申报' }]);
    expect(layer.correct('核顶征收怎么交')).toEqual([{ from: '核顶', to: '核定' }]);
  });

  it('reads an alias by its sound and gives the canonical word', () => {
    expect(layer.correct('社宝在哪交')).toEqual([{ from: '社宝', to: '社会保险费' }]);
  });

  it('prefers the longest window: a typo inside a longer word gives the longer word', () => {
    expect(layer.correct('留抵腿税要啥条件')).toEqual([{ from: '留抵腿税', to: '留抵退税' }]);
  });

  it('takes a known word whole into a window, but never cuts one in two', () => {
    expect(layer.correct('电子税务句登录')).toEqual([{ from: '税务句', to: '税务局' }]);
  });

  it('never reads a real word of the dictionary as a homophone (水费 is not 税费)', () => {
    expect(layer.correct('水费怎么交')).toEqual([]);
  });

  it('leaves words it knows and unknown words that sound like nothing it knows', () => {
    expect(layer.correct('申报期限')).toEqual([]);
    expect(layer.correct('彩票中奖怎么领')).toEqual([]);
  });

  it('does not guess between two knowledge words of one sound used alike', () => {
    expect(layer.correct('事点在哪')).toEqual([]);
  });
});

describe('SoundAlike: pinyin typed in Latin letters', () => {
  it('reads pinyin words, with or without spaces between syllables', () => {
    expect(layer.correct('tuishui')).toEqual([{ from: 'tuishui', to: '退税' }]);
    expect(layer.correct('shen bao 期限')).toEqual([{ from: 'shen bao', to: '申报' }]);
  });

  it('splits a run into several words and skips function words', () => {
    expect(layer.correct('daikai fapiao zenme')).toEqual([{ from: 'daikai fapiao', to: '代开发票' }]);
    expect(layer.correct('zenme shenbao')).toEqual([{ from: 'shenbao', to: '申报' }]);
  });

  it('never reads a word across the inside of a piece it leaves (liudi tuishui zai is not 留抵退 + 水灾)', () => {
    expect(layer.correct('liudi tuishui zai dianzi shang')).toEqual([{ from: 'liudi tuishui', to: '留抵退税' }]);
  });

  it('leaves letters that are no pinyin of the knowledge (English, abbreviations)', () => {
    expect(layer.correct('hello ukey')).toEqual([]);
    expect(layer.correct('ok')).toEqual([]);
  });
});
