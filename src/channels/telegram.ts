import { Telegraf, TelegramError, type Telegram } from 'telegraf';
import type { Message, MessageEntity, Update } from 'telegraf/types';
import type { FastifyBaseLogger } from 'fastify';
import type { InboundMessage, MediaKind, OutboundMessage } from '../core/conversation/types.js';
import { redact } from '../logging.js';
import { ChannelError, type ChannelAdapter, type InboundHandler, type PressHandler } from './channel.js';

/** Telegram's own limit for one message's text. */
const TELEGRAM_MAX_LENGTH = 4096;

/**
 * The update types the gateway handles, given to setWebhook and to long polling so that Telegram
 * sends no others (inline queries, payments, channel posts ...).
 */
export const ALLOWED_UPDATES = ['message', 'edited_message', 'callback_query', 'my_chat_member'] as const;

/**
 * How long one Bot API call may take before it fails as a network error; telegraf's own limit is
 * 500 s, which would hold a webhook request (and Telegram's retry of it) for minutes. A long poll
 * gets its own hold time on top.
 */
export const TELEGRAM_CALL_TIMEOUT_MS = 15_000;

/**
 * What a message carries besides text, by the field Telegram puts it in. `animation` comes before
 * `document`: Telegram sends a GIF with both.
 */
const MEDIA_FIELDS: readonly (readonly [string, MediaKind])[] = [
  ['photo', 'image'], ['animation', 'video'], ['video', 'video'], ['video_note', 'video'], ['voice', 'voice'], ['audio', 'audio'],
  ['document', 'file'], ['sticker', 'sticker'], ['location', 'location'], ['venue', 'location'], ['contact', 'contact'],
  ['paid_media', 'image'], ['poll', 'other'], ['dice', 'other'], ['game', 'other'], ['story', 'other'],
];

/** The fields of any message kind the adapter reads: text or caption, with their entities. */
type AnyMessage = Message & { text?: string; caption?: string; entities?: MessageEntity[]; caption_entities?: MessageEntity[] };

function mediaOf(message: AnyMessage): MediaKind | undefined {
  return MEDIA_FIELDS.find(([field]) => field in message)?.[1];
}

/** An error with the bot token masked in its message and stack (telegraf quotes the API URL, token included). */
function scrubbed(err: unknown): unknown {
  if (err instanceof Error) {
    err.message = redact(err.message);
    if (err.stack) err.stack = redact(err.stack);
  }
  return err;
}

/**
 * Bounds every Bot API call of `telegram` in time and masks the token in its errors. A call that
 * times out fails like a lost connection (`FetchError`), which telegraf's long polling retries. The
 * caller's own signal (telegraf's, to stop polling) still aborts the call as before.
 */
function guardCalls(telegram: Telegram, timeoutMs: number): void {
  const call = telegram.callApi.bind(telegram) as (method: string, payload: unknown, opts?: { signal?: AbortSignal }) => Promise<unknown>;
  const guarded = async (method: string, payload: { timeout?: unknown } | undefined, opts: { signal?: AbortSignal } = {}): Promise<unknown> => {
    const limitMs = timeoutMs + (Number(payload?.timeout) || 0) * 1000;
    // telegraf's polling passes the signal of the abort-controller package, which AbortSignal.any() does not take.
    const controller = new AbortController();
    const outer = opts.signal;
    const abort = (): void => controller.abort();
    if (outer?.aborted) abort();
    else outer?.addEventListener('abort', abort);
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      abort();
    }, limitMs);
    try {
      return await call(method, payload, { ...opts, signal: controller.signal });
    } catch (err) {
      if (timedOut) throw Object.assign(new Error(`Telegram 接口 ${method} 在 ${limitMs / 1000} 秒内没有回应`), { name: 'FetchError', type: 'request-timeout' });
      throw scrubbed(err);
    } finally {
      clearTimeout(timer);
      outer?.removeEventListener('abort', abort);
    }
  };
  telegram.callApi = guarded as unknown as Telegram['callApi'];
}

/** Settings of the Telegram channel (TELEGRAM_* in the configuration). */
export interface TelegramOptions {
  readonly token: string;
  /** Bot API base URL; tests point it at a fake on 127.0.0.1. */
  readonly apiRoot: string | null;
  /** Set: updates arrive through POST /telegram/webhook; unset: long polling. */
  readonly webhookSecret: string | null;
  /** The public address of the webhook; set: registered with setWebhook at start. */
  readonly webhookUrl?: string | null;
  readonly log: FastifyBaseLogger;
  /** Longest wait for one Bot API call (tests shorten it); {@link TELEGRAM_CALL_TIMEOUT_MS} by default. */
  readonly callTimeoutMs?: number;
}

/** Whether a parsed JSON body looks like a Telegram update (an object with an integer update_id). */
export function isUpdate(body: unknown): body is Update {
  return typeof body === 'object' && body !== null && Number.isSafeInteger((body as { update_id?: unknown }).update_id);
}

/**
 * Telegram through telegraf: translates messages (text, and captions of pictures and files) into
 * {@link InboundMessage} and sends replies as quotes of the asker's message. Webhook or long polling,
 * chosen by configuration; with a webhook address it registers the webhook itself.
 */
export class TelegramAdapter implements ChannelAdapter {
  readonly channel = 'telegram' as const;
  readonly maxLength = TELEGRAM_MAX_LENGTH;
  private readonly bot: Telegraf;
  /** Set by stop(), also while start() is still under way: no polling begins after it. */
  private stopped = false;
  /** launch()'s promise while long polling: it settles once polling has ended. */
  private launched: Promise<void> | null = null;
  /** Where messages go once started; set by start(), which may run again after a failed attempt. */
  private handler: InboundHandler | null = null;
  private onPress: PressHandler | null = null;

  constructor(private readonly opts: TelegramOptions) {
    // webhookReply off: every call goes to the Bot API, so replies are sent (and counted) the same
    // way in webhook and polling mode.
    this.bot = new Telegraf(opts.token, { telegram: { ...(opts.apiRoot ? { apiRoot: opts.apiRoot } : {}), webhookReply: false } });
    guardCalls(this.bot.telegram, opts.callTimeoutMs ?? TELEGRAM_CALL_TIMEOUT_MS);
    this.bot.on('message', async (ctx) => {
      const msg = this.translate(ctx.message);
      if (msg && this.handler) await this.handler(msg);
    });
    // A button press is answered (Telegram shows the answer and stops the button's spinner) and, when
    // the gateway says so, the message is edited, which also removes its buttons.
    this.bot.on('callback_query', async (ctx) => {
      const query = ctx.callbackQuery;
      const message = query.message;
      if (!('data' in query) || !message || !this.onPress) {
        await ctx.answerCbQuery();
        return;
      }
      const answer = await this.onPress({
        chatId: String(message.chat.id), userId: String(query.from.id), messageId: String(message.message_id),
        messageText: 'text' in message && typeof message.text === 'string' ? message.text : null, data: query.data,
      });
      await ctx.answerCbQuery(answer.toast);
      if (answer.edit !== null) await ctx.telegram.editMessageText(message.chat.id, message.message_id, undefined, answer.edit);
    });
    // In webhook mode a failure reaches the route, which answers 5xx so that Telegram sends the update
    // again; in polling mode throwing would stop polling, so the failure is only logged (the gateway
    // has logged it with the message's details already).
    this.bot.catch((err) => {
      if (opts.webhookSecret) throw err;
    });
  }

  botNames = (): readonly string[] => (this.bot.botInfo ? [this.bot.botInfo.username] : []);

  async start(handler: InboundHandler, onPress?: PressHandler): Promise<void> {
    this.bot.botInfo = await this.bot.telegram.getMe();
    this.handler = handler;
    this.onPress = onPress ?? null;
    const { webhookSecret, webhookUrl, log } = this.opts;
    if (webhookSecret && webhookUrl) {
      await this.bot.telegram.setWebhook(webhookUrl, { secret_token: webhookSecret, allowed_updates: [...ALLOWED_UPDATES] });
      log.info({ url: webhookUrl }, 'Telegram Webhook 已登记');
    } else if (webhookSecret) {
      log.info('未设置 TELEGRAM_WEBHOOK_URL：Telegram 只会向已用 setWebhook 登记的地址推送更新');
    }
    if (!webhookSecret && !this.stopped) {
      // launch() removes any webhook (deleteWebhook) and then polls; it resolves only when polling
      // stops, and failures after start are logged, not thrown.
      this.launched = this.bot.launch({ allowedUpdates: [...ALLOWED_UPDATES] }, () => log.info({ bot: this.bot.botInfo?.username }, 'Telegram 长轮询已开始')).catch((err: unknown) => {
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

  /**
   * A user's message as the gateway's {@link InboundMessage}: its text, or the caption of a picture,
   * video or file (with the caption's entities for mentions); media without a caption come with empty
   * text and their kind. Service messages (members joining, pinned messages, payments) and other
   * bots' messages are not for the gateway: null.
   */
  private translate(message: Message): InboundMessage | null {
    if (!message.from || message.from.is_bot) return null;
    const m = message as AnyMessage;
    const media = mediaOf(m);
    if (m.text === undefined && media === undefined) return null;
    const text = m.text ?? m.caption ?? '';
    const me = this.bot.botInfo;
    const from = message.from;
    const mentionsBot = (m.entities ?? m.caption_entities ?? []).some((e: MessageEntity) =>
      (e.type === 'mention' && me !== undefined && text.slice(e.offset + 1, e.offset + e.length).toLowerCase() === me.username.toLowerCase()) ||
      (e.type === 'text_mention' && e.user.id === me?.id));
    const replied = 'reply_to_message' in message ? message.reply_to_message : undefined;
    return {
      channel: 'telegram',
      chatId: String(message.chat.id),
      chatKind: message.chat.type === 'private' ? 'private' : 'group',
      userId: String(from.id),
      userName: [from.first_name, from.last_name].filter(Boolean).join(' ') || from.username || String(from.id),
      messageId: String(message.message_id),
      text,
      ...(media ? { media } : {}),
      mentionsBot,
      replyToBot: replied?.from?.id !== undefined && replied.from.id === me?.id,
      at: new Date(message.date * 1000),
    };
  }
}
