import fp from 'fastify-plugin';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from '../config.js';
import type { ChannelAdapter } from '../channels/channel.js';
import { Gateway, type FloodRule } from '../channels/gateway.js';
import { TelegramAdapter, isUpdate } from '../channels/telegram.js';
import { ChunfengError } from '../errors.js';
import { startMaintenance } from '../jobs/maintenance.js';
import { startTicketJobs } from '../jobs/tickets.js';
import { startRetention } from '../jobs/retention.js';
import { secretCheck } from './auth.js';

declare module 'fastify' {
  interface FastifyInstance {
    gateway: Gateway;
  }
}

/** Pauses before starting a failed channel again: the first, doubling up to the longest. */
export interface StartRetry {
  readonly firstMs: number;
  readonly maxMs: number;
}

const DEFAULT_START_RETRY: StartRetry = { firstMs: 5_000, maxMs: 300_000 };

/** Options: the configuration, or adapters made elsewhere (tests), and a flood rule to override the default. */
export interface ChannelsPluginOptions {
  readonly startRetry?: StartRetry;
  readonly config: Config;
  readonly adapters?: ChannelAdapter[];
  readonly flood?: FloodRule;
}

/**
 * The chat channels: builds the adapters the configuration turns on, the gateway between them and
 * the core, and the Telegram webhook. Adapters start once the knowledge index is ready (until then
 * the webhook answers 503 and Telegram retries), and the dispatcher sends through each once it
 * runs. On close, sends under way finish, then the adapters stop and in-flight messages are stored.
 */
export default fp<ChannelsPluginOptions>(
  async (fastify, opts) => {
    const { config } = opts;
    const log = fastify.log.child({ component: 'channels' });
    const adapters: ChannelAdapter[] = opts.adapters ? [...opts.adapters] : [];
    let telegram: TelegramAdapter | null = null;
    if (!opts.adapters && config.telegram.token) {
      telegram = new TelegramAdapter({ ...config.telegram, token: config.telegram.token, log: log.child({ channel: 'telegram' }) });
      adapters.push(telegram);
    }
    if (!opts.adapters && config.wechat.puppet) {
      const { WechatAdapter } = await import('../channels/wechat.js');
      mkdirSync(config.dataDir, { recursive: true });
      adapters.push(new WechatAdapter({
        puppet: config.wechat.puppet, token: config.wechat.token, botNames: config.botNames, session: join(config.dataDir, 'wechat'), log: log.child({ channel: 'wechat' }),
      }));
    }
    const webhookAdapter = telegram ?? (adapters.find((a) => a instanceof TelegramAdapter) as TelegramAdapter | undefined) ?? null;

    const gateway = new Gateway({
      store: fastify.store,
      index: () => fastify.knowledge.get(),
      tickets: () => fastify.knowledge.tickets(),
      office: config.office,
      metrics: fastify.metrics,
      log,
      flood: opts.flood,
      maxAgeMs: config.outbox.maxAgeMs,
      queued: (channel, ids) => fastify.dispatcher.offer(channel, ids),
    });
    fastify.decorate('gateway', gateway);

    const qrAdapter = adapters.find((a) => a.loginQr);
    if (qrAdapter) {
      fastify.get('/admin/wechat/qr', {
        preHandler: fastify.authorize(['admin']),
        schema: { summary: '微信登录二维码（仅管理员）：用机器人微信号扫码登录', tags: ['渠道'] },
      }, async () => {
        const qr = qrAdapter.loginQr?.() ?? null;
        if (!qr) throw new ChunfengError('NOT_FOUND', '当前没有待扫描的登录二维码（已登录或尚未生成）');
        return qr;
      });
    }

    /** Adapters running, and whether the app is closing (an adapter that finishes starting then is stopped at once). */
    const started: ChannelAdapter[] = [];
    const starting = new Set<ChannelAdapter>();
    const retries = new Set<ReturnType<typeof setTimeout>>();
    let closing = false;
    const retry = opts.startRetry ?? DEFAULT_START_RETRY;

    /**
     * Starts one adapter; a failure (Telegram unreachable for getMe, a puppet that will not start) is
     * tried again later with a growing pause, so one bad moment at start does not leave a channel off
     * until someone restarts the service. Each adapter starts on its own: one hanging does not hold
     * up the others.
     */
    const start = async (adapter: ChannelAdapter, pauseMs: number): Promise<void> => {
      if (closing) return;
      starting.add(adapter);
      try {
        await adapter.start(gateway.handlerFor(adapter), gateway.pressHandlerFor(adapter));
        if (closing) return; // preClose has stopped it
        started.push(adapter);
        fastify.dispatcher.attach(adapter);
        fastify.metrics.channelUp.set({ channel: adapter.channel }, 1);
        log.info({ channel: adapter.channel }, '渠道已启动');
      } catch (err) {
        if (closing) return;
        fastify.metrics.channelUp.set({ channel: adapter.channel }, 0);
        log.error({ err, channel: adapter.channel, retryInMs: pauseMs }, '渠道启动失败，稍后重试');
        const timer = setTimeout(() => {
          retries.delete(timer);
          void start(adapter, Math.min(pauseMs * 2, retry.maxMs));
        }, pauseMs);
        timer.unref();
        retries.add(timer);
      } finally {
        starting.delete(adapter);
      }
    };

    const secret = config.telegram.webhookSecret;
    if (webhookAdapter && secret) {
      const rightSecret = secretCheck(secret);
      fastify.post('/telegram/webhook', {
        schema: { summary: 'Telegram Webhook（需 X-Telegram-Bot-Api-Secret-Token）', tags: ['渠道'] },
        // Checked when the headers arrive, before the body is read: without the secret nobody makes the
        // server wait for, buffer or parse a body.
        onRequest: async (request) => {
          if (!rightSecret(request.headers['x-telegram-bot-api-secret-token'] as string | undefined)) throw new ChunfengError('UNAUTHORIZED');
        },
      }, async (request, reply) => {
        if (!isUpdate(request.body)) throw new ChunfengError('BAD_REQUEST', '请求体不是 Telegram 更新（缺少整数 update_id）');
        // Until the adapter has started (it asks getMe who the bot is) an update would reach no
        // handler and be lost with a 200; a 503 makes Telegram deliver it again.
        if (!fastify.knowledge.ready || !started.includes(webhookAdapter)) throw new ChunfengError('NOT_READY');
        // Resolves once the message, its decision and its replies are committed (the replies are
        // sent by the dispatcher): a 200 means nothing is lost, anything else is delivered again.
        await webhookAdapter.handleUpdate(request.body);
        return reply.send({ ok: true });
      });
    }

    for (const adapter of adapters) fastify.metrics.channelUp.set({ channel: adapter.channel }, 0);
    let stopMaintenance: () => void = () => undefined;
    let stopTicketJobs: () => void = () => undefined;
    let stopRetention: () => void = () => undefined;
    fastify.addHook('onReady', async () => {
      stopMaintenance = startMaintenance(fastify.store, log);
      stopTicketJobs = startTicketJobs(fastify.store, () => fastify.knowledge.tickets().rules, log);
      stopRetention = startRetention(fastify.store, opts.config.retention, log);
      void fastify.knowledge.loaded.then(async () => {
        if (!fastify.knowledge.ready) return;
        for (const adapter of adapters) void start(adapter, retry.firstMs);
      });
    });
    fastify.addHook('preClose', async () => {
      stopMaintenance();
      stopTicketJobs();
      stopRetention();
      closing = true;
      for (const timer of retries) clearTimeout(timer);
      // Sends under way finish and are recorded while the adapters can still send (a stopped WeChat
      // puppet cannot); what is queued after this waits for the next start or another instance.
      await fastify.dispatcher.stop();
      // An adapter still starting is stopped too, or it would begin polling after close.
      await Promise.allSettled([...started, ...starting].map((a) => a.stop()));
      for (const adapter of adapters) fastify.metrics.channelUp.set({ channel: adapter.channel }, 0);
      await gateway.drain();
    });
  },
  { name: 'channels', dependencies: ['store', 'knowledge', 'metrics', 'auth', 'outbox'] },
);
