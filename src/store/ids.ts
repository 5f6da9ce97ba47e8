import { randomFillSync } from 'node:crypto';

let lastMs = -1;
let counter = 0;

/** Random bytes drawn 4 KiB at a time: one call into the CSPRNG per 256 ids instead of one per id. */
const pool = Buffer.alloc(4096);
let poolAt = pool.length;

function random16(): Buffer {
  if (poolAt + 16 > pool.length) {
    randomFillSync(pool);
    poolAt = 0;
  }
  const bytes = Buffer.from(pool.subarray(poolAt, poolAt + 16));
  poolAt += 16;
  return bytes;
}

/**
 * A new row id: a UUIDv7 (RFC 9562) as lowercase text. Its first 48 bits are the creation time in
 * milliseconds and the next 12 a counter that rises within a millisecond, so ids made by one process
 * sort in the order they were made; `messages.recent` relies on that to keep two messages recorded
 * in the same millisecond in order. Ids from different instances in the same millisecond sort
 * arbitrarily, as their order is unknowable anyway.
 */
export function newId(): string {
  const bytes = random16();
  let ms = Date.now();
  if (ms > lastMs) {
    lastMs = ms;
    // Start low in the 12-bit range so the counter has room to rise within this millisecond.
    counter = ((bytes[6] as number) << 3) | ((bytes[7] as number) & 0x7);
  } else {
    // Same millisecond, or the clock stepped back: keep rising from the last id instead.
    counter++;
    if (counter > 0xfff) {
      lastMs++;
      counter = 0;
    }
    ms = lastMs;
  }
  for (let i = 5; i >= 0; i--) {
    bytes[i] = ms % 256;
    ms = Math.floor(ms / 256);
  }
  bytes[6] = 0x70 | (counter >> 8);
  bytes[7] = counter & 0xff;
  bytes[8] = 0x80 | ((bytes[8] as number) & 0x3f);
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
