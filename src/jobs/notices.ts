import type { FastifyBaseLogger } from 'fastify';
import { nextRound, reminderDue, withinOfficeHours, type OfficeHours, type ReminderSchedule } from '../core/notices/delivery.js';
import type { WorkCalendar } from '../core/tickets/workdays.js';
import { queueNotice, queueReminders, type Queued } from '../notices/deliver.js';
import type { Store } from '../store/index.js';

/** What the notice job works with. */
export interface NoticeJobOptions {
  readonly store: Store;
  readonly log: FastifyBaseLogger;
  /** Told which channel got new outbox rows (the dispatcher's wake). */
  readonly queued: Queued;
  /** Reminders go out only within these hours, on working days (REMINDER_HOURS). */
  readonly officeHours: OfficeHours;
  /**
   * The working days, asked for on each run: the calendar of the knowledge folder as loaded (and
   * reloaded), the one ticket deadlines are counted in.
   */
  readonly calendar: () => WorkCalendar;
  /** How often it looks for work; 30 s by default (tests shorten it). */
  readonly everyMs?: number;
  readonly now?: () => Date;
}

/**
 * Delivery's background work, on every instance: queueing notices whose delivery has started (the
 * route only starts it; this finishes it, also after a crash or on another instance) and reminder
 * rounds that are due. Everything it writes is keyed, so two instances doing the same round at the
 * same time queue each message once.
 */
export class NoticeJob {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private again = false;
  /** The job's clock: delivery starts and reminder delays are measured on it. */
  readonly now: () => Date;

  constructor(private readonly opts: NoticeJobOptions) {
    this.now = opts.now ?? (() => new Date());
  }

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => this.kick(), this.opts.everyMs ?? 30_000);
    this.timer.unref();
    this.kick();
  }

  /** Looks for work now (after a notice's delivery was started); one run at a time. */
  kick(): void {
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.run().finally(() => {
      this.running = null;
      if (this.again && this.timer) {
        this.again = false;
        this.kick();
      }
    });
  }

  /** When reminder rounds may go out now: the office hours, on the working days of the calendar as loaded. */
  schedule(): ReminderSchedule {
    return { hours: this.opts.officeHours, calendar: this.opts.calendar() };
  }

  /** Stops looking and waits for a run under way. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.running;
  }

  /** One pass: notices to queue, then reminder rounds due. Failures are logged and tried next time. */
  async run(): Promise<void> {
    const { store, log } = this.opts;
    try {
      for (const id of await store.delivery.sending()) {
        const notice = await store.notices.get(id);
        if (!notice) continue;
        const queued = await queueNotice(store, notice, this.opts.queued);
        log.info({ notice: id, number: notice.number, queued }, '通知已全部排入发送队列');
      }
      await this.reminders();
    } catch (err) {
      log.error({ err }, '通知发送任务失败，稍后重试');
    }
  }

  /**
   * Per notice with a reminder plan: the first round not yet finished, once its delay since the
   * notice was sent has passed and it is office hours on a working day (core's reminderDue). A
   * round starts only after the one before it has finished.
   */
  private async reminders(): Promise<void> {
    const { store, log } = this.opts;
    const now = this.now();
    const schedule = this.schedule();
    // Outside office hours no round is due: spare the store the look.
    if (!withinOfficeHours(now, schedule.hours, schedule.calendar)) return;
    const notices = (await store.notices.list()).filter((n) => n.state === 'queued' && n.reminders.length > 0 && n.sentAt !== null);
    for (const summary of notices) {
      const rounds = await store.delivery.rounds(summary.id);
      const next = nextRound(summary.reminders, rounds.filter((r) => r.finishedAt !== null).length);
      if (!next || !summary.sentAt || !reminderDue(summary.sentAt, next.reminder.afterHours, now, schedule)) continue;
      const notice = await store.notices.get(summary.id);
      if (!notice) continue;
      const reminded = await queueReminders(store, notice, next.round, this.opts.queued, now);
      log.info({ notice: notice.id, round: next.round, reminded }, '已发出提醒');
    }
  }
}
