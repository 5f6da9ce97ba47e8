import { ScanStatus, WechatyBuilder, types, type Contact, type Message, type PuppetModuleName, type Room, type Wechaty, type WechatyOptions } from 'wechaty';
import type { FastifyBaseLogger } from 'fastify';
import type { InboundMessage, MediaKind, OutboundMessage } from '../core/conversation/types.js';
import { isWechatRoomId } from '../core/notices/delivery.js';
import { ChannelError, type ChannelAdapter, type InboundHandler } from './channel.js';

/**
 * WeChat publishes no limit for one text message; a long one is hard to read on a phone in a busy
 * room, so the core splits replies longer than this.
 */
const WECHAT_MAX_LENGTH = 1500;

/** What WeChat puts after an @mention (U+2005, FOUR-PER-EM SPACE); the core strips it too. */
const MENTION_SEPARATOR = '\u2005';

/** A send that has not finished by then is reported as a network failure, so the gateway never hangs on a stuck puppet. */
const SEND_TIMEOUT_MS = 30_000;

/** Chats whose kind (room or contact) is remembered from inbound messages; the oldest are forgotten beyond this. */
const MAX_KNOWN_CHATS = 10_000;

/** Node's error codes for a connection that failed or got no answer (puppets that talk HTTP, like wechat4u). */
const NETWORK_ERROR_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'ECONNABORTED', 'ETIMEDOUT', 'ENOTFOUND', 'EAI_AGAIN', 'EPIPE', 'ENETUNREACH', 'EHOSTUNREACH']);

/** gRPC status codes (wechaty-puppet-service) for a service that did not answer: DEADLINE_EXCEEDED, UNAVAILABLE. */
const GRPC_NETWORK_CODES = new Set([4, 14]);

/**
 * Message types the bot cannot read, as the gateway names them: in a private chat they get one line
 * asking for the question in words. Other types (system notes, recalled messages, transfers, red
 * envelopes) are not something a user asks with and get no reply anywhere.
 */
const MEDIA_TYPES = new Map<types.Message, MediaKind>([
  [types.Message.Image, 'image'], [types.Message.Video, 'video'], [types.Message.Audio, 'voice'], [types.Message.Attachment, 'file'],
  [types.Message.Emoticon, 'sticker'], [types.Message.Location, 'location'], [types.Message.Contact, 'contact'],
  [types.Message.Url, 'link'], [types.Message.MiniProgram, 'link'], [types.Message.ChatHistory, 'other'], [types.Message.Post, 'other'],
]);

/** Media types whose text may be words the user typed with them (the counterpart of a Telegram caption). */
const CAPTIONED = new Set([types.Message.Image, types.Message.Video, types.Message.Attachment]);

/**
 * The words sent with a picture, video or file, if any. Puppets put other things in the text of such
 * messages: the file's name, or the message's XML; neither is a question.
 */
function captionOf(msg: Message): string {
  const text = msg.payload?.text ?? '';
  if (!text.trim() || /^\s*</.test(text) || text === msg.payload?.filename) return '';
  return text;
}

/** A Wechaty puppet instance (what `WechatyBuilder` accepts instead of a package name). */
export type Puppet = Wechaty['puppet'];

/** Waits between restarts of a puppet that lost its login or failed: doubling from `firstMs` up to `maxMs`. */
export interface RestartBackoff {
  readonly firstMs: number;
  readonly maxMs: number;
}

/** Five seconds, then doubling to five minutes: a logged-out account or a dead puppet service is not hammered. */
export const DEFAULT_RESTART_BACKOFF: RestartBackoff = { firstMs: 5_000, maxMs: 5 * 60_000 };

/** Settings of the WeChat channel (WECHAT_PUPPET, WECHAT_PUPPET_TOKEN, BOT_NAMES in the configuration). */
export interface WechatOptions {
  /** The puppet's npm package, e.g. `wechaty-puppet-wechat4u`; ignored when `puppetInstance` is given. */
  readonly puppet: string;
  /** The token service puppets need (padlocal, puppet-service); null for puppets without one. */
  readonly token: string | null;
  /** More names the bot answers to when @mentioned (group aliases), besides the account's own name. */
  readonly botNames: readonly string[];
  readonly log: FastifyBaseLogger;
  /** A ready puppet to use instead of loading `puppet` by name; tests pass a PuppetMock. */
  readonly puppetInstance?: Puppet;
  readonly restartBackoff?: RestartBackoff;
  /**
   * Where the login session is kept (Wechaty's memory card, `<session>.memory-card.json`), so a
   * restart does not ask for a new QR scan; it is a credential, so it belongs in the data folder.
   * Unset: nothing is kept.
   */
  readonly session?: string;
}

/** The login QR code while the account waits to be scanned: the text to encode and Wechaty's scan status. */
export interface LoginQr {
  readonly url: string;
  /** `waiting`, `scanned`, `confirmed`, `timeout`, `cancel` or `unknown`. */
  readonly status: string;
}

/**
 * Whether a failed send may go through later (`network`: no connection, a timeout, a puppet service
 * that did not answer) or the other side said no (`refused`). Puppets throw plain errors, so only
 * codes that clearly mean "no answer" count as network; anything else is taken as a refusal.
 */
export function sendFailureKind(err: unknown): 'refused' | 'network' {
  let e: unknown = err;
  // Wrappers (GError, fetch errors) keep the original under `cause`; a few levels are enough.
  for (let depth = 0; depth < 4 && typeof e === 'object' && e !== null; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && NETWORK_ERROR_CODES.has(code)) return 'network';
    if (typeof code === 'number' && GRPC_NETWORK_CODES.has(code)) return 'network';
    e = (e as { cause?: unknown }).cause;
  }
  return 'refused';
}

/** The id of a message Wechaty says it sent; puppets that do not tell give nothing. */
function sentId(sent: Message | void): string | null {
  return sent ? sent.id : null;
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * WeChat through Wechaty: translates messages (text; pictures, voice, files ... as media) into
 * {@link InboundMessage} and sends what the
 * gateway hands it, @mentioning the asker in rooms. It never speaks on its own (no greeting on
 * login, nothing on a timer). The puppet (the WeChat protocol) is configuration; when it loses its
 * login or fails, the adapter restarts it with a growing pause, and a new login QR code appears in
 * the log and in {@link WechatAdapter.loginQr}.
 */
export class WechatAdapter implements ChannelAdapter {
  readonly channel = 'wechat' as const;
  readonly maxLength = WECHAT_MAX_LENGTH;
  private readonly bot: Wechaty;
  private readonly log: FastifyBaseLogger;
  private readonly backoff: RestartBackoff;
  private handler: InboundHandler | null = null;
  private selfName: string | null = null;
  private qr: LoginQr | null = null;
  private readonly chatKinds = new Map<string, 'room' | 'contact'>();
  private stopped = true;
  private restartTimer: NodeJS.Timeout | null = null;
  private restartDelayMs: number;
  private restarting: Promise<void> | null = null;
  /** Set when the puppet reports an error while restarting: Wechaty reports a failed puppet start that way, not by throwing. */
  private restartFailed = false;

  constructor(private readonly opts: WechatOptions) {
    this.log = opts.log;
    this.backoff = opts.restartBackoff ?? DEFAULT_RESTART_BACKOFF;
    this.restartDelayMs = this.backoff.firstMs;
    const options: WechatyOptions = opts.puppetInstance
      ? { puppet: opts.puppetInstance }
      : {
          // Wechaty types the name as one of the puppets it knows; any installed puppet package resolves at run time.
          puppet: opts.puppet as PuppetModuleName,
          puppetOptions: opts.token ? { token: opts.token } : {},
          ...(opts.session ? { name: opts.session } : {}),
        };
    this.bot = WechatyBuilder.build(options);
    this.listen();
  }

  /** The logged-in account's name, then BOT_NAMES (group aliases the core also looks for in the text). */
  botNames = (): readonly string[] => [...new Set([this.selfName, ...this.opts.botNames].filter((n): n is string => !!n))];

  /** The QR code to scan while the account is not logged in; null once logged in. */
  loginQr(): LoginQr | null {
    return this.qr;
  }

  async start(handler: InboundHandler): Promise<void> {
    this.handler = handler;
    this.stopped = false;
    // Resolves once the puppet runs, not once logged in: a login needs someone to scan the QR code.
    await this.bot.start();
  }

  async send(out: OutboundMessage): Promise<string | null> {
    if (!this.bot.isLoggedIn) throw new ChannelError('wechat', 'network', '微信未登录，消息未发出');
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new ChannelError('wechat', 'network', `微信发送超时（${SEND_TIMEOUT_MS / 1000} 秒）`)), SEND_TIMEOUT_MS);
    });
    try {
      return await Promise.race([this.deliver(out), timeout]);
    } catch (err) {
      if (err instanceof ChannelError) throw err;
      const kind = sendFailureKind(err);
      throw new ChannelError('wechat', kind, kind === 'network' ? `无法连接微信：${errorText(err)}` : `微信拒绝发送：${errorText(err)}`);
    } finally {
      clearTimeout(timer);
    }
  }

  async stop(): Promise<void> {
    // Set first: stopping the puppet emits `logout`, which must not schedule a restart.
    this.stopped = true;
    this.handler = null;
    this.cancelRestart();
    await this.restarting;
    await this.bot.stop();
  }

  private listen(): void {
    this.bot.on('scan', (qrcode, status) => {
      const statusName = (ScanStatus[status] ?? 'unknown').toLowerCase();
      // Only a fresh code comes with text; "scanned" and "confirmed" keep the code being scanned.
      const url = qrcode || this.qr?.url;
      if (url) this.qr = { url, status: statusName };
      // The puppet is alive and waiting for a login: a restart now would only replace the code being scanned.
      this.cancelRestart();
      this.log.info({ qrcode: url ?? null, status: statusName }, '微信等待扫码登录');
    });
    this.bot.on('login', (user) => {
      this.selfName = user.name();
      this.qr = null;
      this.cancelRestart();
      this.restartDelayMs = this.backoff.firstMs;
      this.log.info({ account: this.selfName }, '微信已登录');
    });
    this.bot.on('logout', (user, reason) => {
      this.selfName = null;
      this.log.warn({ account: user.name(), reason: reason ?? null }, '微信已登出');
      this.scheduleRestart('logout');
    });
    // Listening is also what keeps an error from crashing the process: an EventEmitter throws an
    // 'error' nobody listens to. Most errors (a payload that failed to load) leave the login intact;
    // only one that leaves the account logged out and without a QR code to scan calls for a restart.
    this.bot.on('error', (err) => {
      this.log.error({ err }, '微信出错');
      if (this.restarting) this.restartFailed = true;
      else if (!this.bot.isLoggedIn && !this.qr) this.scheduleRestart('error');
    });
    this.bot.on('message', (msg) => {
      void this.receive(msg).catch((err: unknown) => this.log.error({ err, messageId: msg.id }, '微信消息转换失败'));
    });
  }

  private async receive(msg: Message): Promise<void> {
    const handler = this.handler;
    if (!handler) return;
    const inbound = await this.translate(msg);
    if (inbound) await handler(inbound);
  }

  private async translate(msg: Message): Promise<InboundMessage | null> {
    // Our own messages come back as messages (also the ones typed on the account's phone): never answer them.
    if (msg.self()) return null;
    const type = msg.type();
    const media = MEDIA_TYPES.get(type);
    if (type !== types.Message.Text && media === undefined) return null;
    const text = type === types.Message.Text ? msg.text() : CAPTIONED.has(type) ? captionOf(msg) : '';
    if (media === undefined && !text.trim()) return null;
    const talker = msg.talker();
    // Official accounts push articles and notices into private chats; answering them would talk to a machine.
    if (talker.type() === types.Contact.Official) return null;
    const room = msg.room();
    const base = {
      channel: 'wechat' as const,
      userId: talker.id,
      // Wechaty can deliver the same message twice (puppet reconnects); the gateway drops the repeat by this id.
      messageId: msg.id,
      text,
      ...(media ? { media } : {}),
      // WeChat quotes ("引用") are not exposed the same way by every puppet (some send them as text
      // with the quoted lines inlined, some as another message type), so replies to the bot are not
      // recognised; in rooms users @mention the bot instead.
      replyToBot: false,
      at: msg.date(),
    };
    if (room) {
      this.remember(room.id, 'room');
      return {
        ...base,
        chatId: room.id,
        chatKind: 'group',
        // A member list that failed to load only costs the group alias.
        userName: (await room.alias(talker).catch(() => undefined)) || talker.name(),
        // Some puppets leave the mention list empty; the core also looks for "@<bot name>" in the text.
        mentionsBot: await msg.mentionSelf().catch(() => false),
      };
    }
    this.remember(talker.id, 'contact');
    return { ...base, chatId: talker.id, chatKind: 'private', userName: talker.name(), mentionsBot: false };
  }

  /** Says the message; resolves with the sent message's id when the puppet tells it. */
  private async deliver(out: OutboundMessage): Promise<string | null> {
    // A chat not seen since start (a notice's recipient) is told by its id, as the notice queue told it.
    const kind = this.chatKinds.get(out.chatId) ?? (isWechatRoomId(out.chatId) ? 'room' : 'contact');
    if (kind === 'contact') {
      const contact = await this.bot.Contact.find({ id: out.chatId });
      if (!contact) throw new ChannelError('wechat', 'refused', `微信联系人不存在：${out.chatId}`);
      return sentId(await contact.say(out.text));
    }
    const room = await this.bot.Room.find({ id: out.chatId });
    if (!room) throw new ChannelError('wechat', 'refused', `微信群不存在或已退出：${out.chatId}`);
    return sentId(await this.sayInRoom(room, out));
  }

  /**
   * Says `out.text` in a room, as `@name\u2005text` when `out.mention` is set. Wechaty's
   * `room.say(text, contact)` would itself put "@name " (a plain space) in front, so a text that
   * already carried the mention would name the asker twice. The template form renders the mention
   * exactly once where it is placed, with WeChat's own separator, and passes the contact's id to the
   * puppet, so puppets that support it notify the asker ("有人@我"). The name is the asker's room
   * alias or nickname, as in the inbound message. If the asker cannot be looked up (they left), the
   * mention is written as plain text: the room still sees whom the answer is for.
   */
  private async sayInRoom(room: Room, out: OutboundMessage): Promise<Message | void> {
    if (!out.mention) return room.say(out.text);
    const asker: Contact | undefined = await this.bot.Contact.find({ id: out.mention.userId });
    if (asker) return room.say`${asker}${MENTION_SEPARATOR}${out.text}`;
    return room.say(`@${out.mention.name}${MENTION_SEPARATOR}${out.text}`);
  }

  private remember(chatId: string, kind: 'room' | 'contact'): void {
    this.chatKinds.delete(chatId);
    this.chatKinds.set(chatId, kind);
    if (this.chatKinds.size > MAX_KNOWN_CHATS) {
      const oldest = this.chatKinds.keys().next().value;
      if (oldest !== undefined) this.chatKinds.delete(oldest);
    }
  }

  private scheduleRestart(reason: 'logout' | 'error'): void {
    if (this.stopped || this.restartTimer || this.restarting) return;
    const delayMs = this.restartDelayMs;
    this.restartDelayMs = Math.min(this.restartDelayMs * 2, this.backoff.maxMs);
    this.log.warn({ reason, delayMs }, '微信将重新启动');
    this.restartTimer = setTimeout(() => {
      this.restartTimer = null;
      this.restarting = this.restart().then((ok) => {
        this.restarting = null;
        if (!ok) this.scheduleRestart('error');
      });
    }, delayMs);
    // The HTTP server keeps the process alive; a pending restart alone must not.
    this.restartTimer.unref();
  }

  private cancelRestart(): void {
    if (this.restartTimer) clearTimeout(this.restartTimer);
    this.restartTimer = null;
  }

  /**
   * Stops and starts the puppet, which then shows a new QR code or logs in again by itself. False
   * when it failed, so another attempt follows after a longer pause.
   */
  private async restart(): Promise<boolean> {
    if (this.stopped || this.bot.isLoggedIn) return true;
    this.restartFailed = false;
    try {
      await this.bot.stop();
      if (this.stopped) return true;
      await this.bot.start();
    } catch (err) {
      this.log.error({ err }, '微信重新启动失败');
      return false;
    }
    if (this.restartFailed) return false;
    this.log.info('微信已重新启动');
    return true;
  }
}
