import * as OpenCC from 'opencc-js/t2cn';

const toSimplified = OpenCC.Converter({ from: 't', to: 'cn' });

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
 * emoji and decoration removed, Latin in lower case, whitespace collapsed.
 */
export function normalize(text: string): string {
  // NFKC first, so that a mention typed with a full-width ＠ (Chinese input methods) is removed too.
  const noMentions = stripMentions(text.normalize('NFKC'));
  return toSimplified(noMentions)
    .replace(WECHAT_EMOTICON, ' ')
    .replace(DECORATION, ' ')
    .replace(REPEATED_PUNCTUATION, '$1')
    .toLowerCase()
    .replace(/\s+/gu, ' ')
    .trim();
}
