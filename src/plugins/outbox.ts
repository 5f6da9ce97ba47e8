import fp from 'fastify-plugin';
import type { Config } from '../config.js';
import { channelLimits, type ChannelLimits } from '../channels/channel.js';
import { Dispatcher, type DispatcherTiming } from '../channels/dispatcher.js';
import type { Channel } from '../core/conversation/types.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** Sends the outbox; wake it after queueing rows (`wake(channel)`). */
    dispatcher: Dispatcher;
  }
}

/** Options: the configuration, and limits or timings that replace the configured ones (tests, benchmarks). */
export interface OutboxPluginOptions {
  readonly config: Config;
  readonly limits?: Partial<Record<Channel, ChannelLimits>>;
  readonly timing?: Partial<DispatcherTiming>;
}

/**
 * The outbox's dispatcher with the configured limits, its depth on /metrics, polling from start-up
 * on. The channels plugin attaches each adapter once it runs, and stops the dispatcher before the
 * adapters on close, so that sends under way finish and are recorded.
 */
export default fp<OutboxPluginOptions>(
  async (fastify, opts) => {
    const { config } = opts;
    const dispatcher = new Dispatcher({
      store: fastify.store,
      limits: { ...channelLimits({ telegram: config.telegramLimits, wechat: config.wechatBudget }), ...opts.limits },
      metrics: fastify.metrics,
      log: fastify.log.child({ component: 'outbox' }),
      maxAttempts: config.outbox.maxAttempts,
      timing: opts.timing,
    });
    fastify.decorate('dispatcher', dispatcher);
    fastify.metrics.outboxProbe = () => fastify.store.outbox.depth();
    fastify.addHook('onReady', async () => dispatcher.start());
    fastify.addHook('onClose', async () => dispatcher.stop());
  },
  { name: 'outbox', dependencies: ['store', 'metrics'] },
);
