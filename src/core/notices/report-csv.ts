/**
 * CSV for Excel: a UTF-8 byte order mark (without it Excel on Chinese Windows reads the file as GBK
 * and shows mojibake), CRLF line ends, every cell quoted when it needs to be, and cells that Excel
 * would run as a formula (= + - @ at the start) prefixed with an apostrophe.
 */
export function excelCsv(rows: readonly (readonly (string | number | null)[])[]): string {
  const cell = (value: string | number | null): string => {
    if (value === null) return '';
    let text = String(value);
    if (typeof value === 'string' && /^[=+\-@\t\r]/.test(text)) text = `'${text}`;
    return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
  };
  return `\uFEFF${rows.map((r) => r.map(cell).join(',')).join('\r\n')}\r\n`;
}
