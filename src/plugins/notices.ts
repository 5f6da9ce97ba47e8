import fp from 'fastify-plugin';
import type { Config } from '../config.js';
import { NoticeJob } from '../jobs/notices.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** Queues notices whose delivery has started and reminder rounds that are due; `kick()` after starting one. */
    noticeJob: NoticeJob;
  }
}

/** Options: the configuration, and how often the job runs and what time it is (tests). */
export interface NoticesPluginOptions {
  readonly config: Config;
  readonly everyMs?: number;
  readonly now?: () => Date;
}

/**
 * The notice job on this instance, from start-up on (it finishes what another instance or a crashed
 * process started), stopped on close before the store closes.
 */
export default fp<NoticesPluginOptions>(
  async (fastify, opts) => {
    const job = new NoticeJob({
      store: fastify.store,
      log: fastify.log.child({ component: 'notices' }),
      queued: (channel) => fastify.dispatcher.wake(channel),
      officeHours: opts.config.reminderHours,
      // The calendar ticket deadlines are counted in: holidays and 调休 working days alike.
      calendar: () => fastify.knowledge.tickets().calendar,
      everyMs: opts.everyMs,
      now: opts.now,
    });
    fastify.decorate('noticeJob', job);
    fastify.addHook('onReady', async () => job.start());
    fastify.addHook('onClose', async () => job.stop());
  },
  { name: 'notices', dependencies: ['store', 'knowledge', 'outbox'] },
);
