/** A CSV cell: quoted when it holds a comma, a quote or a line break. */
function cell(value: string | number): string {
  const text = String(value);
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/**
 * Downloads a table as a CSV file with a UTF-8 byte order mark, so that Excel opens the Chinese
 * intact (without the mark it reads the file as GBK).
 */
export function downloadCsv(fileName: string, header: readonly string[], rows: readonly (readonly (string | number)[])[]): void {
  const text = [header, ...rows].map((r) => r.map(cell).join(',')).join('\r\n');
  download(fileName, new Blob(['\uFEFF', text, '\r\n'], { type: 'text/csv;charset=utf-8' }));
}

/** Lets the browser save a blob under a file name. */
export function download(fileName: string, blob: Blob): void {
  const url = URL.createObjectURL(blob);
  const link = document.createElement('a');
  link.href = url;
  link.download = fileName;
  link.click();
  URL.revokeObjectURL(url);
}
