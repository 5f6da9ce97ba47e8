/**
 * The worker thread of a knowledge reload: loads the knowledge folder and builds (or finds the
 * saved) index, off the server's event loop, and hands back what the server then loads in steps
 * (reload.ts). nodejieba works in a worker thread with a dictionary of its own.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { handOver, prepareIndex, type IndexSource } from './open.js';

const { source, now } = workerData as { source: IndexSource; now: string };
try {
  const at = new Date(now);
  const prepared = prepareIndex(source, at);
  let handed;
  try {
    handed = handOver(prepared);
  } catch (err) {
    // A saved index that cannot be read (a disk that filled up mid-write) only costs a rebuild.
    if (!prepared.fromCache) throw err;
    handed = handOver(prepareIndex(source, at, { rebuild: true }));
  }
  parentPort?.postMessage({ ok: true, handed });
} catch (err) {
  parentPort?.postMessage({ ok: false, message: err instanceof Error ? err.message : String(err) });
}
