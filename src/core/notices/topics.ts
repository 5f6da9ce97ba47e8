/**
 * Topic subscriptions of a chat. Every linked chat gets notices of every topic until it says
 * otherwise: 退订 留抵退税 turns one topic off, 退订 alone turns everything off ({@link ALL_TOPICS}),
 * and 订阅 留抵退税 turns one topic (back) on, also after 退订 alone. Topics are the knowledge
 * categories (留抵退税, 发票, 社保费 ...), so a pack item's topic is its entry's category.
 */

/** The key under which "退订" without a topic is remembered. */
export const ALL_TOPICS = '*';

/** A chat's choices: topic -> true (订阅) or false (退订); topics it never named are absent. */
export type TopicStates = ReadonlyMap<string, boolean>;

/** Whether a chat takes news of one topic: its own choice for the topic, else its choice for everything, else yes. */
export function topicAllowed(states: TopicStates, topic: string): boolean {
  return states.get(topic) ?? states.get(ALL_TOPICS) ?? true;
}

/**
 * Whether a chat takes a notice about `topics`: never when it turned one of them off; a notice about
 * nothing in particular only when it has not turned everything off; otherwise when one of them is
 * allowed. A pack without topics of its own is decided item by item ({@link topicAllowed} on each
 * item's category), so it passes here.
 */
export function receivesNotice(states: TopicStates, topics: readonly string[], pack: boolean): boolean {
  if (topics.some((t) => states.get(t) === false)) return false;
  if (topics.length === 0) return pack || states.get(ALL_TOPICS) !== false;
  return topics.some((t) => topicAllowed(states, t));
}
