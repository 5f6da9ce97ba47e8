import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * The service's Prometheus metrics, in a registry of their own so several app instances (tests)
 * never share counters.
 */
export class Metrics {
  readonly registry = new Registry();
  readonly messagesIn = new Counter({ name: 'chunfeng_messages_in_total', help: '收到的消息数', labelNames: ['channel'], registers: [this.registry] });
  readonly messagesOut = new Counter({ name: 'chunfeng_messages_out_total', help: '发出的消息数', labelNames: ['channel'], registers: [this.registry] });
  readonly decisions = new Counter({
    name: 'chunfeng_decisions_total', help: '对提问的处理结果（answered、uncertain、no_match、small_talk ...）；回答率 = answered / 全部', labelNames: ['channel', 'reason'], registers: [this.registry],
  });
  readonly dropped = new Counter({
    name: 'chunfeng_messages_dropped_total', help: '未处理或未发出的消息（duplicate、flood、budget）', labelNames: ['channel', 'reason'], registers: [this.registry],
  });
  readonly sendFailures = new Counter({
    name: 'chunfeng_send_failures_total', help: '发送失败（refused：对方拒绝；network：网络失败）', labelNames: ['channel', 'kind'], registers: [this.registry],
  });
  readonly channelUp = new Gauge({
    name: 'chunfeng_channel_up', help: '渠道是否在运行：1 运行中（微信可能仍在等待扫码登录）；0 启动中、启动失败等待重试或已停止', labelNames: ['channel'], registers: [this.registry],
  });
  readonly replySeconds = new Histogram({
    name: 'chunfeng_reply_seconds', help: '从收到消息到回复发出的时间', labelNames: ['channel'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5], registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'chunfeng_' });
  }
}
