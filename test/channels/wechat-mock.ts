import type { EventEmitter } from 'node:events';
import type { mock } from 'wechaty-puppet-mock';

/** One message as a user of Wechaty's PuppetMock sees it. */
export interface Seen {
  readonly id: string;
  readonly talkerId: string;
  readonly text: string;
  /** Null in a private chat. */
  readonly roomId: string | null;
}

/**
 * Records what a mock room or contact shows. PuppetMock types its emitters with typed-emitter, whose
 * CommonJS default export does not resolve under NodeNext, so `on` is missing from the types; they
 * are Node EventEmitters.
 */
export function observe(emitter: mock.RoomMock | mock.ContactMock, into: Seen[]): void {
  (emitter as unknown as EventEmitter).on('message', (m: mock.MessageMock) => void into.push({ id: m.id, talkerId: m.talker().id, text: m.text() ?? '', roomId: m.room()?.id ?? null }));
}
