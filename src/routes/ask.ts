import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { formatAnswer } from '../core/conversation/format.js';
import { withoutNul } from '../core/conversation/inbound.js';
import type { Answer } from '../core/search/index.js';
import { intentOf } from '../core/tickets/intent.js';
import type { Store } from '../store/index.js';

/**
 * What the web page answers to 转人工 and complaints: the website has no way to reach a visitor
 * again (no push to the page), so instead of a ticket the visitor is told how complaints are made
 * and that a chat with the bot on WeChat or Telegram hands them over to a person.
 */
export const HANDOFF_ENTRY = 'complaint-channels';

/** Longest question accepted: a question, not a document. */
export const MAX_QUESTION_LENGTH = 500;

/**
 * A browser's conversation id: random, made by the page (web/src/try/session.ts), long enough that
 * nobody guesses another's. Never shorter than 16, so it cannot be the shared chat's own id.
 */
export const SESSION_PATTERN = '^[A-Za-z0-9_-]{16,64}$';

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
        body: Type.Object({
          q: Type.String({ minLength: 1, maxLength: MAX_QUESTION_LENGTH }),
          entry: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: '所选候选条目的 id（点选“您是不是想问”中的一项）：直接回答该条目，q 为它的标题；条目已不存在时按 q 回答' })),
          session: Type.Optional(Type.String({ pattern: SESSION_PATTERN, description: '网页生成的随机会话编号（16-64 个字母、数字、_ 或 -）：同一会话的提问存在同一个网页对话里' })),
        }, { additionalProperties: false }),
        response: { 200: AnswerSchema },
      },
    },
    async (request) => {
      const { entry, session } = request.body;
      const q = withoutNul(request.body.q);
      const index = fastify.knowledge.get();
      // A picked suggestion is answered with its entry, as a numbered reply is in a chat: asking its title could land on a neighbour.
      // The page cannot hand a visitor over to a person: 转人工 and complaints get the entry that says where one is reached.
      const intent = intentOf(q)?.kind;
      const answer = (entry ? index.answerFor(entry, q) : null) ?? (intent === 'human' || intent === 'complaint' ? index.answerFor(HANDOFF_ENTRY, q) : null) ?? index.ask(q);
      await record(fastify, answer, session ?? null).catch((err: unknown) => request.log.error({ err }, '网页提问未能存储'));
      return answer;
    },
  );
};

/** The chat website questions without a session are stored in: such a client names no one, and the gateway keeps no addresses. */
const WEB_CHAT = { channel: 'web', channelChatId: 'widget', kind: 'private' } as const;

/** The web chat's id in each store, looked up once (ids never change once made). */
const webChats = new WeakMap<Store, Promise<string>>();

/** The shared chat's id, looked up once per store. */
function sharedWebChat(store: Store, at: Date): Promise<string> {
  let chatId = webChats.get(store);
  if (!chatId) {
    chatId = store.identities.upsertChat(WEB_CHAT, at);
    webChats.set(store, chatId);
    chatId.catch(() => webChats.delete(store));
  }
  return chatId;
}

/**
 * Where a website question is stored: with a session, a private chat of its own and a user for the
 * browser, both named by the session id (so a later hand-over to a person can find the
 * conversation and its asker); without one, the shared chat and no user.
 */
async function webConversation(store: Store, session: string | null, at: Date): Promise<{ chatId: string; userId: string | null }> {
  if (session === null) return { chatId: await sharedWebChat(store, at), userId: null };
  const [chatId, userId] = await Promise.all([
    store.identities.upsertChat({ channel: 'web', channelChatId: session, kind: 'private' }, at),
    store.identities.upsertUser({ channel: 'web', channelUserId: session }, at),
  ]);
  return { chatId, userId };
}

/**
 * Stores a website question with the decision and the reply as the taxpayer reads it, like a chat
 * message, and counts it in the metrics. A store that fails is logged, and the asker still gets the answer.
 */
async function record(fastify: FastifyInstance, answer: Answer, session: string | null): Promise<void> {
  const { store, metrics } = fastify;
  const at = new Date();
  metrics.messagesIn.inc({ channel: 'web' });
  metrics.decisions.inc({ channel: 'web', reason: answer.reason });
  const { chatId, userId } = await webConversation(store, session, at);
  await Promise.all([
    store.messages.record({
      channel: 'web', chatId, userId, direction: 'in', text: answer.q, at,
      decision: { answered: answer.answered, entryId: answer.id, score: answer.score, reason: answer.reason, questionKey: fastify.knowledge.get().questionKey(answer.q) },
    }),
    store.messages.record({ channel: 'web', chatId, direction: 'out', text: formatAnswer(answer), at }),
  ]);
  metrics.messagesOut.inc({ channel: 'web' });
}

export default ask;
