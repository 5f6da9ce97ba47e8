import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';

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
    async (request) => fastify.knowledge.get().ask(request.body.q),
  );
};

export default ask;
