/** Taxpayer ids with valid check characters, as real ones have, made from a number. */

const USCC_CHARS = '0123456789ABCDEFGHJKLMNPQRTUWXY';
const USCC_WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28];
const ID_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];

/** A unified social credit code of a company registered in 济南 (91370102...), the n-th one. */
export function uscc(n: number): string {
  const body = `91370102MA${String(n).padStart(7, '0')}`;
  let sum = 0;
  for (let i = 0; i < 17; i++) sum += USCC_CHARS.indexOf(body[i] as string) * (USCC_WEIGHTS[i] as number);
  return body + USCC_CHARS[(31 - (sum % 31)) % 31];
}

/** A resident identity number (born 1980, 济南历下区), the n-th one: a natural person's taxpayer id. */
export function residentId(n: number): string {
  const body = `37010219800101${String(n % 1000).padStart(3, '0')}`;
  let sum = 0;
  for (let i = 0; i < 17; i++) sum += Number(body[i]) * (ID_WEIGHTS[i] as number);
  return body + '10X98765432'[sum % 11];
}
