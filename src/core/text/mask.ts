/**
 * Personal numbers that must not be kept or logged, wherever they appear in a text: ID card numbers
 * (18 characters with a birth date, and the 15-digit first generation), 统一社会信用代码 (18
 * characters), bank card numbers and mobile numbers. The ID card patterns run first: an ID number
 * would otherwise also look like a credit code or a card. Matching is done on the text with
 * full-width characters folded to ASCII (１３８… is a phone number too), and the mask replaces the
 * original characters at the same places.
 */
const PERSONAL_NUMBERS: readonly [RegExp, string][] = [
  [/(?<![0-9A-Za-z])[1-9]\d{5}(?:18|19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}[\dXx](?![0-9A-Za-z])/g, '[身份证号]'],
  [/(?<![0-9A-Za-z])[1-9]\d{5}\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}(?![0-9A-Za-z])/g, '[身份证号]'],
  [/(?<![0-9A-Za-z])[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}(?![0-9A-Za-z])/g, '[统一社会信用代码]'],
  [/(?<!\d)(?:\+?86[- ]?)?1[3-9]\d[- ]?\d{4}[- ]?\d{4}(?!\d)/g, '[手机号]'],
];

/**
 * Bank cards: 16 to 19 digits from the card networks used in China (UnionPay 62, Visa 4, Mastercard 5,
 * JCB and American Express 3), written whole or in groups of four, whose Luhn check digit is right —
 * the check keeps order and invoice numbers of the same length as they are.
 */
const BANK_CARD = /(?<![0-9A-Za-z])[3-6]\d{3}(?:[- ]?\d{4}){3}(?:[- ]?\d{1,3})?(?![0-9A-Za-z])/g;
const BANK_CARD_MASK = '[银行卡号]';

/** Full-width ASCII (U+FF01-FF5E) and the ideographic space as their ASCII forms: one UTF-16 unit each, so indices agree. */
function foldWidth(text: string): string {
  return text.replace(/[\uFF01-\uFF5E\u3000]/g, (c) => (c === '\u3000' ? ' ' : String.fromCharCode(c.charCodeAt(0) - 0xfee0)));
}

/** Whether a card number's last digit is its Luhn check digit. */
function luhn(digits: string): boolean {
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = digits.charCodeAt(digits.length - 1 - i) - 48;
    if (i % 2 === 1) d = d * 2 > 9 ? d * 2 - 9 : d * 2;
    sum += d;
  }
  return sum % 10 === 0;
}

/** Replaces what `pattern` finds in the folded text (and `accept` keeps) at the same places in the original. */
function replaceFolded(text: string, pattern: RegExp, mask: string, accept: (match: string) => boolean = () => true): string {
  const folded = foldWidth(text);
  let out = '';
  let last = 0;
  for (const m of folded.matchAll(pattern)) {
    if (!accept(m[0])) continue;
    out += text.slice(last, m.index) + mask;
    last = m.index + m[0].length;
  }
  return last === 0 ? text : out + text.slice(last);
}

/**
 * Masks phone numbers, ID card numbers (18 and 15 digits), 统一社会信用代码 and bank card numbers in a
 * text, in ASCII or full-width digits. The one masking of personal numbers: log lines and stored
 * message text both go through it.
 */
export function maskPersonalData(text: string): string {
  const masked = PERSONAL_NUMBERS.reduce((t, [pattern, mask]) => replaceFolded(t, pattern, mask), text);
  return replaceFolded(masked, BANK_CARD, BANK_CARD_MASK, (card) => {
    const digits = card.replace(/[- ]/g, '');
    return digits.length >= 16 && digits.length <= 19 && luhn(digits);
  });
}
