import type { InboundMessage } from './types.js';

/**
 * Text without U+0000. PostgreSQL refuses the character in text columns (every retry would fail the
 * same way) while SQLite stores it, so it is removed where text enters the service, and both
 * databases keep the same words.
 */
export function withoutNul(text: string): string {
  return text.includes('\u0000') ? text.replaceAll('\u0000', '') : text;
}

/** A message as a channel delivered it, with U+0000 removed from everything that is stored. */
export function cleanInbound(msg: InboundMessage): InboundMessage {
  const fields = ['chatId', 'userId', 'userName', 'messageId', 'text'] as const;
  if (!fields.some((f) => msg[f].includes('\u0000'))) return msg;
  return { ...msg, ...Object.fromEntries(fields.map((f) => [f, withoutNul(msg[f])])) };
}
