import { call } from './session';

/** Fetches a file from the API with the session's token and hands it to the browser as a download named `name`. */
export async function downloadFile(path: string, name: string): Promise<void> {
  const blob = await call<Blob>(path, { expect: 'blob' });
  const link = document.createElement('a');
  link.href = URL.createObjectURL(blob);
  link.download = name;
  link.click();
  setTimeout(() => URL.revokeObjectURL(link.href), 10_000);
}
