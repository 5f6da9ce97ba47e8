import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { formatAnswer } from '../core/conversation/format.js';
import { withoutNul } from '../core/conversation/inbound.js';
import type { Answer } from '../core/search/index.js';
import type { Store } from '../store/index.js';

/** Longest question accepted: a question, not a document. */
export const MAX_QUESTION_LENGTH = 500;

const Suggestion = Type.Object({ id: Type.String(), title: Type.String(), score: Type.Number() });
const AnswerSchema = Type.Object({
  q: Type.String(),
  answered: Type.Boolean(),
  id: Type.Union([Type.String(), Type.Null()]),
  title: Type.Union([Type.String(), Type.Null()]),
  score: Type.Number(),
  answer: Type.Union([Type.String(), Type.Null()]),
  suggestions: Type.Array(Suggestion),
  reason: Type.String(),
  kind: Type.Union([Type.String(), Type.Null()]),
  category: Type.Union([Type.String(), Type.Null()]),
  sources: Type.Array(Type.String()),
  citations: Type.Array(Type.Object({ id: Type.String(), title: Type.String() })),
});

/** Options: how many questions one client may ask per minute. */
export interface AskRouteOptions {
  readonly perMinute: number;
}

/** POST /api/ask: the website widget's question box; the same object as one `chunfeng ask --json` line. */
const ask: FastifyPluginAsyncTypebox<AskRouteOptions> = async (fastify, opts) => {
  fastify.post(
    '/api/ask',
    {
      config: { rateLimit: { max: opts.perMinute, timeWindow: '1 minute' } },
      schema: {
        summary: '向知识库提问',
        tags: ['问答'],
        body: Type.Object({ q: Type.String({ minLength: 1, maxLength: MAX_QUESTION_LENGTH }) }, { additionalProperties: false }),
        response: { 200: AnswerSchema },
      },
    },
    async (request) => {
      const answer = fastify.knowledge.get().ask(withoutNul(request.body.q));
      await record(fastify, answer).catch((err: unknown) => request.log.error({ err }, '网页提问未能存储'));
      return answer;
    },
  );
};

/** The chat all website questions are stored in: the widget names no one, and the gateway keeps no addresses. */
const WEB_CHAT = { channel: 'web', channelChatId: 'widget', kind: 'private' } as const;

/** The web chat's id in each store, looked up once (ids never change once made). */
const webChats = new WeakMap<Store, Promise<string>>();

/**
 * Stores a website question with the decision and the reply as the taxpayer reads it, like a chat
 * message, and counts it in the metrics. A store that fails is logged, and the asker still gets the answer.
 */
async function record(fastify: FastifyInstance, answer: Answer): Promise<void> {
  const { store, metrics } = fastify;
  const at = new Date();
  metrics.messagesIn.inc({ channel: 'web' });
  metrics.decisions.inc({ channel: 'web', reason: answer.reason });
  let chatId = webChats.get(store);
  if (!chatId) {
    chatId = store.identities.upsertChat(WEB_CHAT, at);
    webChats.set(store, chatId);
    chatId.catch(() => webChats.delete(store));
  }
  const id = await chatId;
  await Promise.all([
    store.messages.record({
      channel: 'web', chatId: id, direction: 'in', text: answer.q, at,
      decision: { answered: answer.answered, entryId: answer.id, score: answer.score, reason: answer.reason },
    }),
    store.messages.record({ channel: 'web', chatId: id, direction: 'out', text: formatAnswer(answer), at }),
  ]);
  metrics.messagesOut.inc({ channel: 'web' });
}

export default ask;
