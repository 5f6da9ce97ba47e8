import { describe, expect, it } from 'vitest';
import { Writable } from 'node:stream';
import pino from 'pino';
import { loggerOptions, redactPersonalData } from '../src/logging.js';

describe('redactPersonalData', () => {
  it('masks mobile numbers, ID card numbers and 统一社会信用代码 inside Chinese text', () => {
    expect(redactPersonalData('我的电话13812345678，麻烦回电')).toBe('我的电话[手机号]，麻烦回电');
    expect(redactPersonalData('手机 +86 139-0000-0000 或 138 1234 5678')).toBe('手机 [手机号] 或 [手机号]');
    expect(redactPersonalData('身份证号11010519491231002X请核对')).toBe('身份证号[身份证号]请核对');
    expect(redactPersonalData('信用代码91350100M000100Y43的企业')).toBe('信用代码[统一社会信用代码]的企业');
  });

  it('leaves ordinary figures alone', () => {
    const text = '季度销售额30万元，2027年12月31日前有效，12366热线，订单号2026112300001';
    expect(redactPersonalData(text)).toBe(text);
  });
});

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
