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
    name: 'chunfeng_messages_dropped_total', help: '不予处理或不作回答的消息（duplicate：重复投递；flood：刷屏）', labelNames: ['channel', 'reason'], registers: [this.registry],
  });
  readonly sendFailures = new Counter({
    name: 'chunfeng_send_failures_total',
    help: '发送尝试失败的次数（network：网络或对方故障，会重试；rate_limited：对方要求放慢（429），整个渠道暂停；unreachable：被拉黑或移出群（403）；refused：对方拒绝这条消息）',
    labelNames: ['channel', 'kind'], registers: [this.registry],
  });
  readonly outboxSent = new Counter({ name: 'chunfeng_outbox_sent_total', help: '发送队列中已发出的消息', labelNames: ['channel'], registers: [this.registry] });
  readonly outboxRetried = new Counter({ name: 'chunfeng_outbox_retried_total', help: '发送失败后重新排队的次数（网络故障、429）', labelNames: ['channel'], registers: [this.registry] });
  readonly outboxFailed = new Counter({
    name: 'chunfeng_outbox_failed_total', help: '放弃发送的消息（refused_or_attempts：被拒绝或重试次数用尽；unreachable：会话已无法送达）', labelNames: ['channel', 'reason'], registers: [this.registry],
  });
  readonly outboxExpired = new Counter({ name: 'chunfeng_outbox_expired_total', help: '等待超过最长时限（OUTBOX_MAX_AGE）而不再发送的消息', labelNames: ['channel'], registers: [this.registry] });
  readonly tickets = new Counter({
    name: 'chunfeng_ticket_messages_total', help: '与工单有关的消息（open：新建工单；relay：转给工作人员；same：重复转人工；status：查询工单；rate：评价；reopen：重新打开）',
    labelNames: ['channel', 'step'], registers: [this.registry],
  });
  /** Reads the outbox's depth for the two gauges below at each scrape; set by the outbox plugin. */
  outboxProbe: (() => Promise<readonly { channel: string; depth: number; oldest: Date }[]>) | null = null;
  readonly outboxDepth: Gauge;
  /** Reads the ticket counts at each scrape; set by the tickets routes. */
  ticketProbe: (() => Promise<{ readonly open: number; readonly overdue: number }>) | null = null;
  readonly ticketsOpen: Gauge;
  readonly ticketsOverdue: Gauge;
  readonly outboxOldest: Gauge;
  readonly channelUp = new Gauge({
    name: 'chunfeng_channel_up', help: '渠道是否在运行：1 运行中（微信可能仍在等待扫码登录）；0 启动中、启动失败等待重试或已停止', labelNames: ['channel'], registers: [this.registry],
  });
  readonly replySeconds = new Histogram({
    name: 'chunfeng_reply_seconds', help: '从收到消息到回复发出的时间（回复分几条发出时每条计一次）', labelNames: ['channel'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5], registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'chunfeng_' });
    // Both gauges come from one read of the store per scrape: the registry collects every metric at
    // once, in the order registered, so the depth's collect starts the read and the age's awaits it.
    type Depth = Awaited<ReturnType<NonNullable<Metrics['outboxProbe']>>>;
    // A store that cannot answer leaves both gauges without values rather than failing the whole scrape.
    let reading: Promise<Depth | null> | null = null;
    const probe = (): Metrics['outboxProbe'] => this.outboxProbe;
    this.outboxDepth = new Gauge({
      name: 'chunfeng_outbox_depth', help: '发送队列中等待或正在发送的消息数（同一数据库上的所有实例合计）', labelNames: ['channel'], registers: [this.registry],
      async collect() {
        const read = probe();
        if (!read) return;
        reading = read().catch(() => null);
        const rows = await reading;
        this.reset();
        for (const r of rows ?? []) this.set({ channel: r.channel }, r.depth);
      },
    });
    let counting: Promise<{ open: number; overdue: number } | null> | null = null;
    const tickets = (): Metrics['ticketProbe'] => this.ticketProbe;
    this.ticketsOpen = new Gauge({
      name: 'chunfeng_tickets_open', help: '未办结的工单数（已登记、已分派、处理中；同一数据库上的所有实例合计）', registers: [this.registry],
      async collect() {
        const read = tickets();
        if (!read) return;
        counting = read().catch(() => null);
        const counts = await counting;
        if (counts) this.set(counts.open);
      },
    });
    this.ticketsOverdue = new Gauge({
      name: 'chunfeng_tickets_overdue', help: '未办结且已过首次回复或答复期限的工单数', registers: [this.registry],
      async collect() {
        if (!counting) return;
        const counts = await counting;
        if (counts) this.set(counts.overdue);
      },
    });
    this.outboxOldest = new Gauge({
      name: 'chunfeng_outbox_oldest_seconds', help: '发送队列中最早一条仍在等待的消息已等了多久（秒）', labelNames: ['channel'], registers: [this.registry],
      async collect() {
        if (!reading) return;
        const rows = await reading;
        const now = Date.now();
        this.reset();
        for (const r of rows ?? []) this.set({ channel: r.channel }, Math.max(0, (now - r.oldest.getTime()) / 1000));
      },
    });
  }
}
