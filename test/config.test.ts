import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, PACKAGED_STATUTES, loadConfig } from '../src/config.js';
import { REAL_KNOWLEDGE, removeDir, tempDir } from './helpers/knowledge.js';

const dir = tempDir('chunfeng-config-');
afterAll(() => removeDir(dir));

/** The error loadConfig throws for `env`, or a failure when it accepts it. */
function refused(env: Record<string, string>): ConfigError {
  try {
    loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error(`loadConfig accepted ${JSON.stringify(env)}`);
}

describe('loadConfig: defaults', () => {
  it('gives the documented defaults for an empty environment', () => {
    const c = loadConfig({});
    expect(c).toMatchObject({
      port: 3000,
      host: '127.0.0.1',
      databaseUrl: 'sqlite:./data/chunfeng.db',
      policyDirs: [PACKAGED_STATUTES],
      dataDir: './data',
      adminToken: null,
      telegram: { token: null, apiRoot: null, webhookSecret: null, webhookUrl: null },
      trustProxy: false,
      metricsToken: null,
      wechat: { puppet: null, token: null },
      logLevel: 'info',
      askRatePerMinute: 30,
    });
    // ./knowledge when it exists (it does in the project folder), else the packaged folder: either way a knowledge folder.
    expect(c.knowledgeDir).toMatch(/knowledge$/);
  });

  it('treats blank values as unset', () => {
    expect(loadConfig({ PORT: ' ', LOG_LEVEL: '', TELEGRAM_BOT_TOKEN: '  ', POLICY_DIRS: ' , ' })).toMatchObject({ port: 3000, logLevel: 'info', telegram: { token: null }, policyDirs: [PACKAGED_STATUTES] });
  });

  it('reads every variable', () => {
    const c = loadConfig({
      PORT: '8080', HOST: '0.0.0.0', DATABASE_URL: 'postgres://chunfeng@db/chunfeng', KNOWLEDGE_DIR: REAL_KNOWLEDGE,
      POLICY_DIRS: ` ${dir} ,${REAL_KNOWLEDGE}`, DATA_DIR: join(dir, 'data'), ADMIN_TOKEN: 'secret-admin-token-0001', TELEGRAM_BOT_TOKEN: '123:abc',
      TELEGRAM_API_ROOT: 'http://127.0.0.1:9000', TELEGRAM_WEBHOOK_SECRET: 'hook_secret-1', WECHAT_PUPPET: 'wechaty-puppet-mock',
      WECHAT_PUPPET_TOKEN: 'tok', LOG_LEVEL: 'debug', ASK_RATE_LIMIT: '5',
    });
    expect(c).toMatchObject({
      port: 8080, host: '0.0.0.0', databaseUrl: 'postgres://chunfeng@db/chunfeng', knowledgeDir: REAL_KNOWLEDGE, policyDirs: [PACKAGED_STATUTES, dir, REAL_KNOWLEDGE],
      dataDir: join(dir, 'data'), adminToken: 'secret-admin-token-0001', telegram: { token: '123:abc', apiRoot: 'http://127.0.0.1:9000', webhookSecret: 'hook_secret-1' },
      wechat: { puppet: 'wechaty-puppet-mock', token: 'tok' }, logLevel: 'debug', askRatePerMinute: 5,
    });
  });

  it('accepts both database kinds and the edges of the port range', () => {
    expect(loadConfig({ DATABASE_URL: 'sqlite:/var/lib/chunfeng/db.sqlite' }).databaseUrl).toBe('sqlite:/var/lib/chunfeng/db.sqlite');
    expect(loadConfig({ DATABASE_URL: 'postgresql://u:p@h:5432/d' }).databaseUrl).toBe('postgresql://u:p@h:5432/d');
    expect(loadConfig({ PORT: '0' }).port).toBe(0);
    expect(loadConfig({ PORT: '65535' }).port).toBe(65535);
  });
});

describe('loadConfig: each bad value names its variable', () => {
  it.each([
    ['PORT', 'abc'],
    ['PORT', '65536'],
    ['PORT', '-1'],
    ['PORT', '80.5'],
    ['PORT', '3000abc'],
    ['DATABASE_URL', 'mysql://db/chunfeng'],
    ['DATABASE_URL', 'sqlite:'],
    ['DATABASE_URL', './data/chunfeng.db'],
    ['KNOWLEDGE_DIR', '/nonexistent/chunfeng/knowledge'],
    ['POLICY_DIRS', '/nonexistent/chunfeng/laws'],
    ['TELEGRAM_API_ROOT', 'not a url'],
    ['TELEGRAM_API_ROOT', 'ftp://example.com'],
    ['TELEGRAM_WEBHOOK_SECRET', 'has spaces and !'],
    ['LOG_LEVEL', 'verbose'],
    ['ASK_RATE_LIMIT', '0'],
    ['ASK_RATE_LIMIT', 'many'],
    ['ADMIN_TOKEN', 'short'],
  ])('%s=%s', (variable, value) => {
    const err = refused({ [variable]: value });
    expect(err.variable).toBe(variable);
    expect(err.message).toContain(variable);
    expect(err.message).not.toContain('\n');
  });

  it('a file where a folder is expected names its variable', () => {
    const file = join(REAL_KNOWLEDGE, 'synonyms.txt');
    expect(refused({ KNOWLEDGE_DIR: file }).variable).toBe('KNOWLEDGE_DIR');
    expect(refused({ POLICY_DIRS: file }).variable).toBe('POLICY_DIRS');
  });

  it('names the bad directory among good ones in POLICY_DIRS', () => {
    const err = refused({ POLICY_DIRS: `${dir},/nonexistent/laws` });
    expect(err.variable).toBe('POLICY_DIRS');
    expect(err.message).toContain('/nonexistent/laws');
  });

  it('never echoes a secret in the message', () => {
    const secret = 'my secret value!';
    expect(refused({ TELEGRAM_WEBHOOK_SECRET: secret }).message).not.toContain(secret);
    expect(refused({ ADMIN_TOKEN: 'short-token' }).message).not.toContain('short-token');
    expect(refused({ DATABASE_URL: 'mysql://chunfeng:pa55word@db/chunfeng' }).message).not.toContain('pa55word');
  });

  it('trusts X-Forwarded-For only when TRUST_PROXY says so: a hop count, true as one hop, or proxy addresses', () => {
    expect(loadConfig({}).trustProxy).toBe(false);
    expect(loadConfig({ TRUST_PROXY: 'false' }).trustProxy).toBe(false);
    expect(loadConfig({ TRUST_PROXY: '0' }).trustProxy).toBe(false);
    expect(loadConfig({ TRUST_PROXY: 'true' }).trustProxy).toBe(1);
    expect(loadConfig({ TRUST_PROXY: '2' }).trustProxy).toBe(2);
    expect(loadConfig({ TRUST_PROXY: '10.0.0.1, 10.0.0.2' }).trustProxy).toEqual(['10.0.0.1', '10.0.0.2']);
    expect(loadConfig({ TRUST_PROXY: '172.16.0.0/12,fd00::/8,loopback' }).trustProxy).toEqual(['172.16.0.0/12', 'fd00::/8', 'loopback']);
  });

  it.each(['yes', '10.0.0.300', '10.0.0.0/33', 'proxy.example.com', '11'])('refuses TRUST_PROXY=%s, naming it', (value) => {
    const err = refused({ TRUST_PROXY: value });
    expect(err.variable).toBe('TRUST_PROXY');
    expect(err.message).not.toContain('\n');
  });

  it('registers the webhook only at an HTTPS address, and only with a secret', () => {
    const secret = { TELEGRAM_WEBHOOK_SECRET: 'hook_secret-1' };
    expect(loadConfig({ ...secret, TELEGRAM_WEBHOOK_URL: 'https://bot.example.gov.cn/chunfeng/telegram' }).telegram.webhookUrl).toBe('https://bot.example.gov.cn/chunfeng/telegram');
    // An address without a path gets the webhook's own.
    expect(loadConfig({ ...secret, TELEGRAM_WEBHOOK_URL: 'https://bot.example.gov.cn' }).telegram.webhookUrl).toBe('https://bot.example.gov.cn/telegram/webhook');
    expect(loadConfig({}).telegram.webhookUrl).toBeNull();
    const http = refused({ ...secret, TELEGRAM_WEBHOOK_URL: 'http://bot.example.gov.cn/telegram/webhook' });
    expect(http.variable).toBe('TELEGRAM_WEBHOOK_URL');
    expect(http.message).toContain('https');
    expect(refused({ TELEGRAM_WEBHOOK_URL: 'https://bot.example.gov.cn/telegram/webhook' }).variable).toBe('TELEGRAM_WEBHOOK_SECRET');
  });

  it('takes METRICS_TOKEN of at least 16 characters, never echoing it', () => {
    expect(loadConfig({}).metricsToken).toBeNull();
    expect(loadConfig({ METRICS_TOKEN: 'prometheus-scrape-token' }).metricsToken).toBe('prometheus-scrape-token');
    const err = refused({ METRICS_TOKEN: 'short-metrics' });
    expect(err.variable).toBe('METRICS_TOKEN');
    expect(err.message).not.toContain('short-metrics');
  });
});

describe('loadConfig: the outbox and the sending limits', () => {
  it('defaults to ten minutes, eight attempts and Telegram\'s published limits', () => {
    expect(loadConfig({})).toMatchObject({ outbox: { maxAgeMs: 600_000, maxAttempts: 8 }, telegramLimits: { perBot: 30, perChat: 1, perGroup: 20 } });
  });

  it('keeps WeChat broadcasts to 200 a day and reminders to 9:00-17:00 unless told otherwise', () => {
    expect(loadConfig({})).toMatchObject({ wechatBudget: { perDay: 200 }, reminderHours: { fromMinute: 540, toMinute: 1020 } });
    expect(loadConfig({ WECHAT_DAY_LIMIT: '50', REMINDER_HOURS: '8:30-18:00' })).toMatchObject({ wechatBudget: { perDay: 50 }, reminderHours: { fromMinute: 510, toMinute: 1080 } });
  });

  it('reads OUTBOX_MAX_AGE in seconds, OUTBOX_MAX_ATTEMPTS and the Telegram limits', () => {
    const c = loadConfig({ OUTBOX_MAX_AGE: '120', OUTBOX_MAX_ATTEMPTS: '3', TELEGRAM_BOT_LIMIT: '20', TELEGRAM_CHAT_LIMIT: '2', TELEGRAM_GROUP_LIMIT: '10' });
    expect(c).toMatchObject({ outbox: { maxAgeMs: 120_000, maxAttempts: 3 }, telegramLimits: { perBot: 20, perChat: 2, perGroup: 10 } });
  });

  it.each([
    ['OUTBOX_MAX_AGE', '5'],
    ['OUTBOX_MAX_AGE', '10m'],
    ['OUTBOX_MAX_ATTEMPTS', '0'],
    ['TELEGRAM_BOT_LIMIT', '0'],
    ['TELEGRAM_CHAT_LIMIT', 'fast'],
    ['TELEGRAM_GROUP_LIMIT', '-1'],
    ['WECHAT_DAY_LIMIT', '0'],
    ['REMINDER_HOURS', '17:00-9:00'],
    ['REMINDER_HOURS', '上午'],
  ])('refuses %s=%s, naming it', (variable, value) => {
    expect(refused({ [variable]: value }).variable).toBe(variable);
  });
});

describe('retention and knowledge polling', () => {
  it('keeps chatter 30 days and questions for good by default, and polls for knowledge changes every 10 seconds', () => {
    expect(loadConfig({})).toMatchObject({ retention: { chatterDays: 30, questionDays: 0 }, knowledgePollMs: 10_000 });
    expect(loadConfig({ RETENTION_CHATTER_DAYS: '7', RETENTION_QUESTION_DAYS: '365', KNOWLEDGE_POLL_SECONDS: '2' })).toMatchObject({ retention: { chatterDays: 7, questionDays: 365 }, knowledgePollMs: 2_000 });
  });

  it.each([
    ['RETENTION_CHATTER_DAYS', '0'],
    ['RETENTION_QUESTION_DAYS', 'forever'],
    ['KNOWLEDGE_POLL_SECONDS', '0'],
  ])('refuses %s=%s, naming it', (variable, value) => {
    expect(refused({ [variable]: value }).message).toContain(variable);
  });
});
