/**
 * The worker thread of a knowledge reload: loads the knowledge folder and builds (or finds the
 * saved) index, off the server's event loop, and hands back what the server then loads in steps
 * (reload.ts). nodejieba works in a worker thread with a dictionary of its own.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { handOver, prepareIndex, type IndexSource } from './open.js';

const { source, now } = workerData as { source: IndexSource; now: string };
try {
  parentPort?.postMessage({ ok: true, handed: handOver(prepareIndex(source, new Date(now), { check: true })) });
} catch (err) {
  parentPort?.postMessage({ ok: false, message: err instanceof Error ? err.message : String(err) });
}
