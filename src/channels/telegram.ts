import { Telegraf, TelegramError } from 'telegraf';
import type { Message, MessageEntity, Update } from 'telegraf/types';
import type { FastifyBaseLogger } from 'fastify';
import type { InboundMessage, OutboundMessage } from '../core/conversation/types.js';
import { ChannelError, type ChannelAdapter, type InboundHandler } from './channel.js';

/** Telegram's own limit for one message's text. */
const TELEGRAM_MAX_LENGTH = 4096;

/** Settings of the Telegram channel (TELEGRAM_* in the configuration). */
export interface TelegramOptions {
  readonly token: string;
  /** Bot API base URL; tests point it at a fake on 127.0.0.1. */
  readonly apiRoot: string | null;
  /** Set: updates arrive through POST /telegram/webhook; unset: long polling. */
  readonly webhookSecret: string | null;
  readonly log: FastifyBaseLogger;
}

/** Whether a parsed JSON body looks like a Telegram update (an object with an integer update_id). */
export function isUpdate(body: unknown): body is Update {
  return typeof body === 'object' && body !== null && Number.isSafeInteger((body as { update_id?: unknown }).update_id);
}

/**
 * Telegram through telegraf: translates text messages into {@link InboundMessage} and sends replies
 * as quotes of the asker's message. Webhook or long polling, chosen by configuration.
 */
export class TelegramAdapter implements ChannelAdapter {
  readonly channel = 'telegram' as const;
  readonly maxLength = TELEGRAM_MAX_LENGTH;
  private readonly bot: Telegraf;
  /** Set by stop(), also while start() is still under way: no polling begins after it. */
  private stopped = false;
  /** launch()'s promise while long polling: it settles once polling has ended. */
  private launched: Promise<void> | null = null;

  constructor(private readonly opts: TelegramOptions) {
    // webhookReply off: every call goes to the Bot API, so replies are sent (and counted) the same
    // way in webhook and polling mode.
    this.bot = new Telegraf(opts.token, { telegram: { ...(opts.apiRoot ? { apiRoot: opts.apiRoot } : {}), webhookReply: false } });
    // In webhook mode a failure reaches the route, which answers 5xx so that Telegram sends the update
    // again; in polling mode throwing would stop polling, so the failure is only logged (the gateway
    // has logged it with the message's details already).
    this.bot.catch((err) => {
      if (opts.webhookSecret) throw err;
    });
  }

  botNames = (): readonly string[] => (this.bot.botInfo ? [this.bot.botInfo.username] : []);

  async start(handler: InboundHandler): Promise<void> {
    this.bot.botInfo = await this.bot.telegram.getMe();
    this.bot.on('message', async (ctx) => {
      const msg = this.translate(ctx.message);
      if (msg) await handler(msg);
    });
    if (!this.opts.webhookSecret && !this.stopped) {
      // launch() resolves only when polling stops; failures after start are logged, not thrown.
      this.launched = this.bot.launch(() => this.opts.log.info({ bot: this.bot.botInfo?.username }, 'Telegram 长轮询已开始')).catch((err: unknown) => {
        this.opts.log.error({ err }, 'Telegram 长轮询已停止');
      });
    }
  }

  /** Handles one update from the webhook; resolves once it is stored (its replies queued). */
  async handleUpdate(update: Update): Promise<void> {
    await this.bot.handleUpdate(update);
  }

  async send(out: OutboundMessage): Promise<string | null> {
    const extra = {
      ...(out.replyToMessageId ? { reply_parameters: { message_id: Number(out.replyToMessageId), allow_sending_without_reply: true } } : {}),
      ...(out.buttons ? { reply_markup: { inline_keyboard: out.buttons.map((row) => row.map((b) => ({ text: b.text, callback_data: b.data }))) } } : {}),
    };
    try {
      const sent = await this.bot.telegram.sendMessage(out.chatId, out.text, extra);
      return String(sent.message_id);
    } catch (err) {
      if (!(err instanceof TelegramError) || err.code >= 500) {
        // 5xx is Telegram failing, not refusing: the same message may go through later.
        throw new ChannelError('telegram', 'network', `无法连接 Telegram：${err instanceof Error ? err.message : String(err)}`);
      }
      const said = `Telegram 拒绝发送（${err.code}）：${err.description}`;
      if (err.code === 429) {
        const seconds = Number(err.parameters?.retry_after);
        throw new ChannelError('telegram', 'rate_limited', said, Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : undefined);
      }
      // Blocked by the user, removed from the group, the group deleted: nothing more can be sent there.
      if (err.code === 403) throw new ChannelError('telegram', 'unreachable', said);
      throw new ChannelError('telegram', 'refused', said);
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    const launched = this.launched;
    if (!launched) return;
    this.launched = null;
    let ended = false;
    void launched.then(() => (ended = true));
    // launch() starts polling only once its deleteWebhook call has returned; until then bot.stop()
    // throws "Bot is not running!" and polling would begin after this stop.
    while (!ended) {
      try {
        this.bot.stop('shutdown');
        break;
      } catch {
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    }
    // Settles once the batch being handled is done and its offset confirmed to Telegram.
    await launched;
  }

  private translate(message: Message): InboundMessage | null {
    if (!('text' in message) || !message.from || message.from.is_bot) return null;
    const me = this.bot.botInfo;
    const from = message.from;
    const mentionsBot = (message.entities ?? []).some((e: MessageEntity) =>
      (e.type === 'mention' && me !== undefined && message.text.slice(e.offset + 1, e.offset + e.length).toLowerCase() === me.username.toLowerCase()) ||
      (e.type === 'text_mention' && e.user.id === me?.id));
    const replied = 'reply_to_message' in message ? message.reply_to_message : undefined;
    return {
      channel: 'telegram',
      chatId: String(message.chat.id),
      chatKind: message.chat.type === 'private' ? 'private' : 'group',
      userId: String(from.id),
      userName: [from.first_name, from.last_name].filter(Boolean).join(' ') || from.username || String(from.id),
      messageId: String(message.message_id),
      text: message.text,
      mentionsBot,
      replyToBot: replied?.from?.id !== undefined && replied.from.id === me?.id,
      at: new Date(message.date * 1000),
    };
  }
}
