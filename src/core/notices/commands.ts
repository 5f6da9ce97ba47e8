import { ALL_TOPICS, type TopicStates } from './topics.js';

/**
 * What a taxpayer can tell the bot about notices, besides 已读: link the chat to their profile with
 * the code the office gave them (绑定 123456), and choose the topics they hear about (订阅 留抵退税,
 * 退订 留抵退税, 退订 alone for everything, 我的订阅).
 */
export type ChatCommand =
  | { readonly kind: 'bind'; readonly code: string | null }
  | { readonly kind: 'subscribe'; readonly topic: string | null }
  | { readonly kind: 'unsubscribe'; readonly topic: string | null }
  | { readonly kind: 'topics' };

const BIND = /^绑定\s*(?:码\s*)?[:：]?\s*(\S*)$/;
const SUBSCRIBE = /^(订阅|退订|取消订阅)\s*[:：]?\s*(.*)$/;
const TOPICS = /^(?:我的订阅|查看订阅|订阅了什么|订阅列表)$/;

/** Reads a command from a message to the bot (mention already removed); null for anything else, which goes to the FAQ. */
export function readChatCommand(text: string): ChatCommand | null {
  const t = text.trim().replace(/[。.!！?？]+$/, '').trim();
  if (TOPICS.test(t)) return { kind: 'topics' };
  const bind = BIND.exec(t);
  if (bind) {
    const code = bind[1] ?? '';
    // 绑定 followed by words is a question about binding (绑定银行卡怎么弄), not a code.
    if (code === '') return { kind: 'bind', code: null };
    return /^\d{6}$/.test(code) ? { kind: 'bind', code } : /^\d+$/.test(code) ? { kind: 'bind', code: null } : null;
  }
  const sub = SUBSCRIBE.exec(t);
  if (!sub) return null;
  const topic = (sub[2] ?? '').trim();
  // 订阅 followed by a long sentence is a question (订阅号怎么关注发票信息), not a choice of topic.
  if (topic.length > 12) return null;
  return { kind: sub[1] === '订阅' ? 'subscribe' : 'unsubscribe', topic: topic === '' ? null : topic };
}

const list = (topics: readonly string[]): string => topics.join('、');

/** How a chat should write a code when it sent none or a malformed one. */
export const BIND_HELP = '请发送“绑定”加上税务机关给您的 6 位绑定码，例如：绑定 123456。绑定码一次有效，过期后请向主管税务机关重新申请。';

/** The answer to 订阅 / 退订 without a topic the knowledge has: what can be chosen. */
export function unknownTopicReply(given: string | null, topics: readonly string[]): string {
  const head = given ? `没有“${given}”这个主题。` : '请在“订阅”后写上主题，例如：订阅 留抵退税。';
  return `${head}可以订阅的主题有：${list(topics)}。`;
}

/** The answer to 订阅 X / 退订 X / 退订 once the choice is stored. */
export function choiceReply(command: { kind: 'subscribe' | 'unsubscribe'; topic: string | null }): string {
  if (command.kind === 'subscribe') return `已订阅“${command.topic ?? ''}”，有相关的政策通知会发给您。发送“我的订阅”可查看。`;
  if (command.topic === null) return '已退订全部通知，今后不再给您发送政策通知。想再收到时，发送“订阅”加主题，例如：订阅 留抵退税。';
  return `已退订“${command.topic}”，今后不再给您发送这方面的通知。想再收到时，发送“订阅 ${command.topic}”。`;
}

/** The answer to 我的订阅: every topic is on unless the chat turned it (or everything) off. */
export function topicsReply(states: TopicStates, topics: readonly string[]): string {
  const allOff = states.get(ALL_TOPICS) === false;
  const on = topics.filter((t) => states.get(t) ?? !allOff);
  const off = topics.filter((t) => !on.includes(t));
  if (on.length === 0) return '您已退订全部通知。发送“订阅”加主题可重新订阅，例如：订阅 留抵退税。';
  if (off.length === 0) return `您接收全部主题的通知。发送“退订”加主题可以不再接收，例如：退订 ${topics[0] ?? '留抵退税'}。`;
  return `正在接收：${list(on)}。已退订：${list(off)}。`;
}

/** What redeeming a code did (the store's answer, as much of it as the reply needs). */
export type BindOutcome =
  | { readonly ok: true; readonly name: string }
  | { readonly ok: false; readonly reason: 'unknown' | 'expired' | 'used' }
  | { readonly ok: false; readonly reason: 'limited'; readonly retryAt: Date };

/** The answer to 绑定 123456. */
export function bindReply(outcome: BindOutcome, beijing: (at: Date) => string): string {
  if (outcome.ok) return `绑定成功：本聊天已关联纳税人“${outcome.name}”，今后与您有关的政策通知会发到这里。发送“我的订阅”可查看和调整接收的主题。`;
  switch (outcome.reason) {
    case 'unknown': return '绑定码不正确，请核对后重新发送。连续输错多次会暂停绑定一小时。';
    case 'expired': return '这个绑定码已过期，请向主管税务机关重新申请。';
    case 'used': return '这个绑定码已经用过了，每个绑定码只能用一次；如需绑定其他聊天，请向主管税务机关重新申请。';
    case 'limited': return `输错次数过多，绑定已暂停，请在 ${beijing(outcome.retryAt)} 之后再试。`;
  }
}
