import { describe, expect, it } from 'vitest';
import { Writable } from 'node:stream';
import pino from 'pino';
import { loggerOptions, redact } from '../src/logging.js';

describe('loggerOptions', () => {
  it('removes secrets by path and personal data from messages and fields', () => {
    const lines: string[] = [];
    const sink = new Writable({ write: (chunk, _enc, done) => { lines.push(String(chunk)); done(); } });
    const log = pino(loggerOptions('info'), sink);
    log.info({ req: { headers: { authorization: 'Bearer s3cret' } }, user: { token: 'tok-123', phone: '13812345678' } }, '用户 13912345678 发来消息');
    const line = JSON.parse(lines[0] as string);
    expect(line.req.headers.authorization).toBe('[已隐去]');
    expect(line.user.token).toBe('[已隐去]');
    expect(line.user.phone).toBe('[手机号]');
    expect(line.msg).toBe('用户 [手机号] 发来消息');
    expect(lines[0]).not.toMatch(/s3cret|tok-123|13812345678|13912345678/);
  });

  it('masks personal data in a logged error, message and stack', () => {
    const lines: string[] = [];
    const sink = new Writable({ write: (chunk, _enc, done) => { lines.push(String(chunk)); done(); } });
    const log = pino(loggerOptions('info'), sink);
    log.error({ err: new Error('Key (phone)=(13812345678) already exists') }, '保存失败');
    const line = JSON.parse(lines[0] as string);
    expect(line.err.message).toBe('Key (phone)=([手机号]) already exists');
    expect(line.err.stack).not.toContain('13812345678');
    expect(line.err.type).toBe('Error');
  });
});

describe('redact: the cases the review found', () => {
  const logLine = (obj: Record<string, unknown>, msg = 'x'): Record<string, unknown> => {
    const lines: string[] = [];
    const sink = new Writable({ write: (chunk, _enc, done) => { lines.push(String(chunk)); done(); } });
    pino(loggerOptions('info'), sink).info(obj, msg);
    return JSON.parse(lines[0] as string) as Record<string, unknown>;
  };

  it('masks a bot token anywhere in a string, keeping the public bot id', () => {
    expect(redact('invalid json response body at http://127.0.0.1:8081/bot123456:AAHk-x_Yz9/getMe reason: Unexpected token <')).toBe(
      'invalid json response body at http://127.0.0.1:8081/bot123456:[已隐去]/getMe reason: Unexpected token <');
    expect(redact('TELEGRAM_BOT_TOKEN=7012345678:AAF0abcdefghijklmnopqrstuvwxyz12345 无效')).toBe('TELEGRAM_BOT_TOKEN=7012345678:[已隐去] 无效');
    expect(redact('12:30 开会，10:00-11:00 办税')).toBe('12:30 开会，10:00-11:00 办税');
  });

  it('hides a top-level token, a.b.token and secrets deeper than six levels', () => {
    let deep: Record<string, unknown> = { token: 'deep-secret', phone: '13812345678' };
    for (let i = 0; i < 10; i++) deep = { level: deep };
    const line = logLine({ token: 'top-secret', a: { b: { token: 'ab-secret', webhookSecret: 'hook-secret' } }, deep, none: { token: null } });
    const text = JSON.stringify(line);
    expect(line.token).toBe('[已隐去]');
    expect((line.a as { b: { token: string } }).b.token).toBe('[已隐去]');
    expect(text).not.toMatch(/top-secret|ab-secret|hook-secret|deep-secret|13812345678/);
    expect(text).toContain('[手机号]');
    expect((line.none as { token: null }).token).toBeNull();
  });

  it('writes errors nested anywhere with masked message and stack, and survives a cycle', () => {
    const cyclic: Record<string, unknown> = { name: 'loop' };
    cyclic.self = cyclic;
    const line = logLine({ results: [{ error: new Error('bot42:secretpart failed for 13812345678') }], cyclic });
    const text = JSON.stringify(line);
    expect(text).not.toMatch(/secretpart|13812345678/);
    expect(text).toContain('bot42:[已隐去]');
    expect((line.cyclic as { self: unknown }).self).toBe('[已省略：循环引用]');
  });

  it('masks an error logged on its own, whose message pino takes for the line', () => {
    const lines: string[] = [];
    const sink = new Writable({ write: (chunk, _enc, done) => { lines.push(String(chunk)); done(); } });
    pino(loggerOptions('info'), sink).error(new Error('call to /bot99:abcdef/getMe failed'));
    expect(lines[0]).not.toContain('abcdef');
    expect(JSON.parse(lines[0] as string).msg).toBe('call to /bot99:[已隐去]/getMe failed');
  });
});
