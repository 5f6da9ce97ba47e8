import { DEFAULT_BOT, type FakeBot } from './telegram-api.js';

/**
 * Telegram updates of every shape a bot in a tax office's groups meets, written after the Bot API's
 * documentation of Update and Message (the shapes of the public sample corpora: photos, documents,
 * voice, stickers, member joins, payments, channel posts, inline and shipping queries,
 * my_chat_member ...), with Chinese captions, names and queries, and @mentions of the bot inside
 * caption_entities. Each says what the bot should do with it:
 * - `answer`: answer `question` (a caption is read like text), quoting the message in a group;
 * - `media`: the one line saying only text questions can be answered (media without words, private chat);
 * - `silent`: acknowledge and say nothing.
 */

export type ShapeExpectation = { readonly kind: 'answer'; readonly question: string } | { readonly kind: 'media' } | { readonly kind: 'silent' };

export interface UpdateShape {
  readonly name: string;
  readonly update: Record<string, unknown>;
  readonly expect: ShapeExpectation;
  /** The chat a reply goes to. */
  readonly chatId: number;
  /** The message a group reply quotes. */
  readonly messageId?: number;
}

/** Questions the real knowledge answers (checked by the tests that use these shapes). */
export const SHAPE_QUESTIONS = { deregister: '个体户注销要办什么手续', invoice: '发票丢了怎么办' } as const;

const ZHANG = { id: 2001, is_bot: false, first_name: '张', last_name: '会计', username: 'zhang_kuaiji', language_code: 'zh-hans' };
const WANG = { id: 2002, is_bot: false, first_name: '王', last_name: '老板', language_code: 'zh-hans' };
const GROUP = { id: -1009876543210, title: '城南纳税人之家', type: 'supergroup' };
const CHANNEL = { id: -1001112223334, title: '春风税务公告', type: 'channel', username: 'chunfeng_notice' };
const PRIVATE = { id: ZHANG.id, first_name: ZHANG.first_name, last_name: ZHANG.last_name, username: ZHANG.username, type: 'private' };

const photoSizes = [
  { file_id: 'AgACAgUAAxkBAAIBq2Zphoto-small', file_unique_id: 'AQADphoto-s', file_size: 1210, width: 90, height: 67 },
  { file_id: 'AgACAgUAAxkBAAIBq2Zphoto-large', file_unique_id: 'AQADphoto-l', file_size: 68452, width: 1280, height: 960 },
];
const voice = { voice: { file_id: 'AwACAgUAAxkBvoice', file_unique_id: 'AgADvoice', duration: 4, mime_type: 'audio/ogg', file_size: 10342 } };
const sticker = {
  sticker: { file_id: 'CAACAgIAAxkBsticker', file_unique_id: 'AgADsticker', type: 'regular', width: 512, height: 512, is_animated: false, is_video: false, emoji: '👍', set_name: 'chunfeng_test' },
};

/** The shapes, with update and message ids counting up from `firstUpdateId`. */
export function updateShapes(bot: FakeBot = DEFAULT_BOT, firstUpdateId = 500_000): UpdateShape[] {
  let updateId = firstUpdateId;
  let messageId = 9_000;
  const now = Math.floor(Date.now() / 1000);
  const botUser = { id: bot.id, is_bot: true, first_name: bot.first_name, username: bot.username };
  const mention = `@${bot.username}`;
  const shapes: UpdateShape[] = [];

  /** A message update; `chat` private unless given, `from` 张会计 unless given. */
  const message = (name: string, fields: Record<string, unknown>, expect: ShapeExpectation, opts: { chat?: Record<string, unknown>; from?: Record<string, unknown>; key?: string } = {}): void => {
    const chat = opts.chat ?? PRIVATE;
    const id = ++messageId;
    const body = { message_id: id, from: opts.from ?? ZHANG, chat, date: now, ...fields };
    shapes.push({ name, update: { update_id: ++updateId, [opts.key ?? 'message']: body }, expect, chatId: chat.id as number, messageId: id });
  };
  /** An update that is not a message. */
  const other = (name: string, key: string, body: Record<string, unknown>): void => {
    shapes.push({ name, update: { update_id: ++updateId, [key]: body }, expect: { kind: 'silent' }, chatId: 0 });
  };
  const answer = (question: string): ShapeExpectation => ({ kind: 'answer', question });
  const media: ShapeExpectation = { kind: 'media' };
  const silent: ShapeExpectation = { kind: 'silent' };
  const inGroup = { chat: GROUP };
  const { deregister, invoice } = SHAPE_QUESTIONS;

  // Text
  message('text in a private chat', { text: deregister }, answer(deregister));
  message('edited text (edited_message)', { text: `${deregister}？`, edit_date: now + 30 }, silent, { key: 'edited_message' });
  message('text forwarded into a private chat', {
    text: invoice, forward_origin: { type: 'user', sender_user: WANG, date: now - 3600 }, forward_from: WANG, forward_date: now - 3600,
  }, answer(invoice));
  message('group reply to another member', {
    text: invoice, reply_to_message: { message_id: 1, from: WANG, chat: GROUP, date: now - 60, text: '我的发票丢了' },
  }, silent, inGroup);
  message('message from another bot in a group', { text: `${mention} ${invoice}`, entities: [{ type: 'mention', offset: 0, length: mention.length }] }, silent, {
    ...inGroup, from: { id: 3001, is_bot: true, first_name: '别的机器人', username: 'other_bot' },
  });
  message('anonymous group admin (GroupAnonymousBot) mentioning the bot', {
    text: `${mention} ${invoice}`, entities: [{ type: 'mention', offset: 0, length: mention.length }], sender_chat: { id: GROUP.id, title: GROUP.title, type: GROUP.type },
  }, silent, { ...inGroup, from: { id: 1087968824, is_bot: true, first_name: 'Group', username: 'GroupAnonymousBot' } });

  // Captions are read as text
  message('photo with a Chinese caption in a private chat', { photo: photoSizes, caption: invoice }, answer(invoice));
  message('photo whose caption @mentions the bot in a group', {
    photo: photoSizes, caption: `${mention} ${invoice}`, caption_entities: [{ type: 'mention', offset: 0, length: mention.length }],
  }, answer(invoice), inGroup);
  const lead = `🧾${invoice} `;
  message('photo whose caption mentions the bot after Chinese text and an emoji', {
    photo: photoSizes, caption: `${lead}${mention}`, caption_entities: [{ type: 'mention', offset: lead.length, length: mention.length }],
  }, answer(invoice), inGroup);
  message('photo with a caption in a group, not addressed', { photo: photoSizes, caption: invoice }, silent, inGroup);
  message('photo with a caption opening with 请问 in a group', { photo: photoSizes, caption: `请问${invoice}` }, answer(invoice), inGroup);
  message('document with a caption in a private chat', {
    document: { file_id: 'BQACAgUAAxkBdoc', file_unique_id: 'AgADdoc', file_name: '注销材料清单.pdf', mime_type: 'application/pdf', file_size: 48213 },
    caption: deregister,
  }, answer(deregister));
  message('video whose caption mentions the bot by name (text_mention) in a group', {
    video: { file_id: 'BAACAgUAAxkBvideo', file_unique_id: 'AgADvideo', width: 720, height: 1280, duration: 12, mime_type: 'video/mp4' },
    caption: `${bot.first_name} ${deregister}`, caption_entities: [{ type: 'text_mention', offset: 0, length: bot.first_name.length, user: botUser }],
  }, answer(deregister), inGroup);
  message('voice message with a caption in a private chat', { ...voice, caption: `请问${invoice}` }, answer(invoice));

  // Media without words
  message('photo without a caption in a private chat', { photo: photoSizes }, media);
  message('photo without a caption in a group', { photo: photoSizes }, silent, inGroup);
  message('document without a caption in a private chat', {
    document: { file_id: 'BQACAgUAAxkBdoc2', file_unique_id: 'AgADdoc2', file_name: '增值税纳税申报表.xlsx', mime_type: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet' },
  }, media);
  message('voice message in a private chat', voice, media);
  message('voice message in a group', voice, silent, inGroup);
  message('audio in a private chat', { audio: { file_id: 'CQACAgUAAxkBaudio', file_unique_id: 'AgADaudio', duration: 180, title: '办税指南', performer: '12366' } }, media);
  message('video note in a private chat', { video_note: { file_id: 'DQACAgUAAxkBnote', file_unique_id: 'AgADnote', length: 240, duration: 8 } }, media);
  message('animation (GIF, sent with a document too) in a private chat', {
    animation: { file_id: 'CgACAgUAAxkBgif', file_unique_id: 'AgADgif', width: 320, height: 240, duration: 3 },
    document: { file_id: 'CgACAgUAAxkBgif', file_unique_id: 'AgADgif', file_name: 'thanks.mp4', mime_type: 'video/mp4' },
  }, media);
  message('sticker in a private chat', sticker, media);
  message('sticker in a group', sticker, silent, inGroup);
  message('location in a private chat', { location: { latitude: 36.6512, longitude: 117.1201 } }, media);
  message('venue in a private chat', {
    location: { latitude: 36.6512, longitude: 117.1201 }, venue: { location: { latitude: 36.6512, longitude: 117.1201 }, title: '历下区办税服务厅', address: '济南市历下区' },
  }, media);
  message('contact card in a private chat', { contact: { phone_number: '+8613800138000', first_name: '李', last_name: '会计', user_id: 2003 } }, media);
  message('dice in a private chat', { dice: { emoji: '🎲', value: 4 } }, media);
  message('poll in a group', {
    poll: {
      id: '5123456789', question: '本月申报截止日是哪天？', options: [{ text: '15日', voter_count: 0 }, { text: '20日', voter_count: 0 }],
      total_voter_count: 0, is_closed: false, is_anonymous: true, type: 'regular', allows_multiple_answers: false,
    },
  }, silent, inGroup);

  // Service messages
  message('new members join a group', { new_chat_members: [WANG], new_chat_member: WANG, new_chat_participant: WANG }, silent, { ...inGroup, from: WANG });
  message('the bot itself added to a group (new_chat_members)', { new_chat_members: [botUser], new_chat_member: botUser, new_chat_participant: botUser }, silent, inGroup);
  message('member leaves a group', { left_chat_member: WANG, left_chat_participant: WANG }, silent, { ...inGroup, from: WANG });
  message('group renamed', { new_chat_title: '城南纳税人之家（2026）' }, silent, inGroup);
  message('message pinned', { pinned_message: { message_id: 42, from: ZHANG, chat: GROUP, date: now - 100, text: '群公告：申报期截至15日' } }, silent, inGroup);
  message('group created', { group_chat_created: true }, silent, { chat: { id: -4001, title: '春风测试群', type: 'group' } });
  message('group migrated to a supergroup', { migrate_to_chat_id: GROUP.id }, silent, { chat: { id: -4001, title: '春风测试群', type: 'group' } });
  message('successful payment in a private chat', {
    successful_payment: { currency: 'CNY', total_amount: 1000, invoice_payload: 'cf-test', telegram_payment_charge_id: 'tg-charge-1', provider_payment_charge_id: 'pp-charge-1' },
  }, silent);
  message('invoice sent by a bot', { invoice: { title: '资料费', description: '办税指南印刷费', start_parameter: 'cf', currency: 'CNY', total_amount: 1000 } }, silent, {
    from: { id: 3001, is_bot: true, first_name: '别的机器人', username: 'other_bot' },
  });

  // Updates that are not messages to the bot
  other('channel post', 'channel_post', { message_id: 77, sender_chat: CHANNEL, chat: CHANNEL, date: now, text: '关于延长申报期限的通知' });
  other('edited channel post', 'edited_channel_post', { message_id: 77, sender_chat: CHANNEL, chat: CHANNEL, date: now, edit_date: now + 5, text: '关于延长申报期限的通知（更正）' });
  other('inline query', 'inline_query', { id: '4418937421', from: ZHANG, query: '发票丢失', offset: '', chat_type: 'sender' });
  other('chosen inline result', 'chosen_inline_result', { result_id: 'invoice-lost', from: ZHANG, query: '发票丢失' });
  other('callback query', 'callback_query', {
    id: '4382bfdwdsb323b2d9', from: ZHANG, chat_instance: '-1234567890', data: 'read:notice-1',
    message: { message_id: 55, from: botUser, chat: PRIVATE, date: now - 60, text: '留抵退税政策提醒' },
  });
  other('shipping query', 'shipping_query', {
    id: '262181558684397422', from: ZHANG, invoice_payload: 'cf-test',
    shipping_address: { country_code: 'CN', state: '山东省', city: '济南市', street_line1: '历下区经十路', street_line2: '', post_code: '250000' },
  });
  other('pre-checkout query', 'pre_checkout_query', { id: '262181558630368727', from: ZHANG, currency: 'CNY', total_amount: 1000, invoice_payload: 'cf-test' });
  const member = (status: string, user: Record<string, unknown>): Record<string, unknown> => ({ status, user });
  other('bot added to a group (my_chat_member)', 'my_chat_member', {
    chat: GROUP, from: ZHANG, date: now, old_chat_member: member('left', botUser), new_chat_member: member('member', botUser),
  });
  other('bot blocked in a private chat (my_chat_member)', 'my_chat_member', {
    chat: PRIVATE, from: ZHANG, date: now, old_chat_member: member('member', botUser), new_chat_member: { status: 'kicked', user: botUser, until_date: 0 },
  });
  other('member status change (chat_member)', 'chat_member', {
    chat: GROUP, from: ZHANG, date: now, old_chat_member: member('left', WANG), new_chat_member: member('member', WANG),
  });
  other('join request', 'chat_join_request', { chat: GROUP, from: WANG, user_chat_id: WANG.id, date: now, bio: '做账的' });
  other('poll answer', 'poll_answer', { poll_id: '5123456789', user: ZHANG, option_ids: [0] });
  other('message reaction', 'message_reaction', { chat: GROUP, message_id: 42, user: ZHANG, date: now, old_reaction: [], new_reaction: [{ type: 'emoji', emoji: '👍' }] });
  return shapes;
}
