import { describe, expect, it } from 'vitest';
import { ALL_TOPICS, receivesNotice, topicAllowed } from '../../../src/core/notices/topics.js';

const states = (entries: [string, boolean][]) => new Map(entries);

describe('topic subscriptions', () => {
  it('lets every topic through until a chat turns one off', () => {
    expect(topicAllowed(states([]), '留抵退税')).toBe(true);
    expect(topicAllowed(states([['留抵退税', false]]), '留抵退税')).toBe(false);
    expect(topicAllowed(states([['留抵退税', false]]), '发票')).toBe(true);
  });

  it('after 退订 of everything, lets through only topics subscribed again', () => {
    const s = states([[ALL_TOPICS, false], ['留抵退税', true]]);
    expect(topicAllowed(s, '留抵退税')).toBe(true);
    expect(topicAllowed(s, '发票')).toBe(false);
    expect(receivesNotice(s, [], false)).toBe(false);
    expect(receivesNotice(s, ['留抵退税'], false)).toBe(true);
    expect(receivesNotice(s, ['发票'], false)).toBe(false);
  });

  it('keeps a notice from a chat that turned any of its topics off', () => {
    const s = states([['发票', false], ['留抵退税', true]]);
    expect(receivesNotice(s, ['留抵退税', '发票'], false)).toBe(false);
    expect(receivesNotice(s, ['留抵退税'], false)).toBe(true);
    expect(receivesNotice(states([]), [], false)).toBe(true);
  });

  it('leaves a pack without topics of its own to be decided item by item', () => {
    expect(receivesNotice(states([[ALL_TOPICS, false]]), [], true)).toBe(true);
  });
});
