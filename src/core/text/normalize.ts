import * as OpenCC from 'opencc-js/t2cn';

const toSimplified = OpenCC.Converter({ from: 't', to: 'cn' });

/**
 * Variant characters the conversion table leaves alone: old variants (衹, 祇), the Japanese forms a
 * pasted text or a Japanese input method brings (発, 増, 値, 経, 営 ...), and 帐, which the table
 * gives for 帳 while the tax words are written 账 (账户, 到账, 记账). 著 is left as it is: it is also
 * a standard character of its own (著作权, 显著).
 */
const VARIANTS: Readonly<Record<string, string>> = {
  衹: '只', 祇: '只', 戸: '户', 帐: '账', 敍: '叙', 徴: '征', 増: '增', 値: '值', 浄: '净', 説: '说', 発: '发', 売: '卖', 経: '经',
  営: '营', 関: '关', 対: '对', 総: '总', 処: '处', 変: '变', 険: '险', 様: '样', 検: '检', 権: '权', 続: '续', 転: '转', 単: '单',
  収: '收', 価: '价', 録: '录', 択: '择', 気: '气', 帰: '归', 読: '读', 図: '图', 従: '从', 乗: '乘', 粋: '粹',
};
const VARIANT = new RegExp(`[${Object.keys(VARIANTS).join('')}]`, 'gu');

/** Separators that end an @mention: ordinary whitespace and U+2005, which WeChat puts after a mention. */
const MENTION_END = '\\s\\u2005';
const LEADING_MENTION = new RegExp(`^[${MENTION_END}]*@[^${MENTION_END}]*(?:[${MENTION_END}]+|$)`, 'u');
const TRAILING_MENTION = new RegExp(`(?:^|[${MENTION_END}])@[^${MENTION_END}]*[${MENTION_END}]*$`, 'u');

/** WeChat renders its built-in emoticons as text such as [微笑] or [OK]. */
const WECHAT_EMOTICON = /\[[\p{Script=Han}a-z]{1,4}\]/giu;
/** Pictographs, their modifiers and joiners, and decorative symbols (★, ✔, ♥ ...). */
const DECORATION = /\p{Extended_Pictographic}|\p{Emoji_Modifier}|\p{So}|\u200d|\ufe0e|\ufe0f|\u20e3/gu;
const REPEATED_PUNCTUATION = /([!?.,~。！？，、～…])\1+/gu;

/**
 * Removes @mentions at either end of a message: `@name` runs up to a space or U+2005.
 * Mentions in the middle of a sentence are left alone: they may be part of what is asked.
 */
export function stripMentions(text: string): string {
  let out = text;
  for (let before = ''; before !== out; ) {
    before = out;
    out = out.replace(LEADING_MENTION, '').replace(TRAILING_MENTION, '');
  }
  return out;
}

/**
 * Brings a user's message to the one form that the index and the dictionaries use:
 * mentions removed, full-width to half-width (NFKC), traditional to simplified,
 * variant characters to their standard form, emoji and decoration removed, Latin in lower case,
 * whitespace collapsed.
 */
export function normalize(text: string): string {
  // NFKC first, so that a mention typed with a full-width ＠ (Chinese input methods) is removed too.
  const noMentions = stripMentions(text.normalize('NFKC'));
  return toSimplified(noMentions)
    .replace(VARIANT, (ch: string) => VARIANTS[ch] as string)
    .replace(WECHAT_EMOTICON, ' ')
    .replace(DECORATION, ' ')
    .replace(REPEATED_PUNCTUATION, '$1')
    .toLowerCase()
    .replace(/\s+/gu, ' ')
    .trim();
}
