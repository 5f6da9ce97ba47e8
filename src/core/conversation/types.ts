/** The chat networks the bot speaks on; `web` is the website widget and the console. */
export type Channel = 'telegram' | 'wechat' | 'web';

/**
 * What a message carried besides text. The bot reads only text: a caption arrives as the message's
 * text, and a message with nothing to read gets one line saying so in a private chat.
 */
export type MediaKind = 'image' | 'video' | 'audio' | 'voice' | 'file' | 'sticker' | 'location' | 'contact' | 'link' | 'other';

/**
 * One message from a user, as every channel adapter delivers it: the core never sees a Wechaty
 * message or a Telegram update, so the same rules apply on every channel.
 */
export interface InboundMessage {
  readonly channel: Channel;
  readonly chatId: string;
  /** A group is where the bot must be addressed before it speaks; a private chat is always addressed. */
  readonly chatKind: 'private' | 'group';
  readonly userId: string;
  /** The name shown in the chat (group alias or nickname): what an @mention in reply uses. */
  readonly userName: string;
  readonly messageId: string;
  /** The text as received, mentions included; a picture's or a file's caption; empty for media without one. */
  readonly text: string;
  /** Set when the message is a picture, voice message, file, sticker ... (with or without a caption). */
  readonly media?: MediaKind;
  /** The channel says the bot was @mentioned (Telegram entities, Wechaty `mentionSelf()`). */
  readonly mentionsBot: boolean;
  /** The message replies to (quotes) one of the bot's messages. */
  readonly replyToBot: boolean;
  readonly at: Date;
}

/** One message for a channel adapter to send. */
export interface OutboundMessage {
  readonly channel: Channel;
  readonly chatId: string;
  readonly text: string;
  /** Quote this message (Telegram's reply): how a group reply names its asker there. */
  readonly replyToMessageId?: string;
  /** @mention this user (WeChat rooms): how a group reply names its asker there; the adapter renders it. */
  readonly mention?: { readonly userId: string; readonly name: string };
  /**
   * Buttons under the message, in rows; a press comes back to the bot with `data` (Telegram's
   * inline keyboard and callback data). Channels without buttons leave them out, so the text must
   * also say how to answer without them (回复“已读”).
   */
  readonly buttons?: readonly (readonly { readonly text: string; readonly data: string }[])[];
}
