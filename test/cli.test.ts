import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PACKAGED_STATUTES } from '../src/config.js';
import { loadKnowledge } from '../src/knowledge/load.js';
import { openIndex } from '../src/knowledge/open.js';
import { REAL_KNOWLEDGE, ROOT, faqFile, removeDir, seededCacheDir, tempDir, writeFiles } from './helpers/knowledge.js';
import { openStore } from '../src/store/index.js';
import iconv from 'iconv-lite';
import { uscc } from './helpers/taxpayers.js';
import { importJson } from '../src/notices/import.js';
import { queueNotice, startDelivery } from '../src/notices/deliver.js';

const CLI = join(ROOT, 'dist', 'cli.js');
/** The keys of one `chunfeng ask --json` line (docs/contracts.md). */
const ASK_KEYS = ['q', 'answered', 'id', 'title', 'score', 'answer', 'suggestions'];
/** The keys of each `chunfeng kb export` element (docs/contracts.md). */
const EXPORT_KEYS = ['id', 'kind', 'title', 'category', 'questions', 'keywords', 'answer', 'sources', 'valid_from', 'valid_until'];

let work: string;
let baseEnv: Record<string, string>;

beforeAll(() => {
  work = tempDir('chunfeng-cli-');
  // Save the index of the real knowledge where the commands look for it, so that each command only
  // loads it (test/knowledge/open.test.ts covers building and the cache).
  openIndex({ knowledgeDir: REAL_KNOWLEDGE, policyDirs: [PACKAGED_STATUTES], cacheDir: seededCacheDir(join(work, 'data', 'cache')) });
  // Only what the command needs: the caller's POLICY_DIRS, PORT or .env must not leak in.
  baseEnv = { PATH: process.env.PATH ?? '', DATA_DIR: join(work, 'data'), KNOWLEDGE_DIR: REAL_KNOWLEDGE, DATABASE_URL: `sqlite:${join(work, 'data', 'db.sqlite')}` };
});
afterAll(() => removeDir(work));

interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `chunfeng ARGS` in the temp folder to the end. */
function chunfeng(args: string[], env: Record<string, string> = {}, input = ''): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd: work, env: { ...baseEnv, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(input);
  });
}

// Each test runs its own processes on its own files, so they run side by side (each start loads the dictionary).
// A test may start the command several times, each loading the index: on a busy machine that takes
// longer than the default 20 s, while a hang still shows as a timeout.
describe.concurrent('chunfeng', { timeout: 90_000 }, () => {
  describe('chunfeng ask', () => {
    it('--json prints one contract object per question, in order', async () => {
      const questions = ['发票弄丢了怎么处理', '你好', '留抵退税'];
      const run = await chunfeng(['ask', '--json', ...questions]);
      expect(run.code, run.stderr).toBe(0);
      const lines = run.stdout.trimEnd().split('\n');
      expect(lines).toHaveLength(3);
      const answers = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
      for (const a of answers) expect(Object.keys(a)).toEqual(expect.arrayContaining(ASK_KEYS));
      expect(answers.map((a) => a.q)).toEqual(questions);
      expect(answers[0]).toMatchObject({ answered: true, id: 'invoice-lost', suggestions: [] });
      expect(answers[0]?.title).toEqual(expect.any(String));
      expect(answers[0]?.answer).toEqual(expect.any(String));
      expect(answers[1]).toMatchObject({ answered: false, id: null, title: null, answer: null, suggestions: [] });
      expect(answers[2]).toMatchObject({ answered: false, id: null });
      expect((answers[2]?.suggestions as unknown[]).length).toBeGreaterThan(0);
    });

    it('reading standard input, answers each line as it arrives', async () => {
      const child = spawn(process.execPath, [CLI, 'ask', '--json'], { cwd: work, env: baseEnv });
      const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
      const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
      let stderr = '';
      child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
      const next = async (): Promise<Record<string, unknown>> => {
        let timer: NodeJS.Timeout | undefined;
        const late = new Promise<never>((_resolve, reject) => {
          timer = setTimeout(() => reject(new Error(`no answer within 30 s while standard input is open; stderr: ${stderr}`)), 30_000);
        });
        const { value, done } = await Promise.race([lines.next(), late]).finally(() => clearTimeout(timer));
        if (done) throw new Error(`output ended early; stderr: ${stderr}`);
        return JSON.parse(value as string) as Record<string, unknown>;
      };

      try {
        // Standard input stays open: the first answer must come before the second question is written.
        child.stdin.write('发票弄丢了怎么处理\n');
        expect(await next()).toMatchObject({ q: '发票弄丢了怎么处理', id: 'invoice-lost' });
        child.stdin.write('每月几号之前要报税\n');
        expect(await next()).toMatchObject({ q: '每月几号之前要报税', id: 'filing-deadline' });
        child.stdin.write('\n今天天气怎么样\n');
        expect(await next()).toMatchObject({ q: '今天天气怎么样', answered: false });
        child.stdin.end();
        expect(await exited).toBe(0);
      } finally {
        if (child.exitCode === null) child.kill();
      }
    });
  });

  describe('chunfeng kb lint', () => {
    it('exits 0 and prints nothing on the real knowledge', async () => {
      const run = await chunfeng(['kb', 'lint']);
      expect(run.stdout).toBe('');
      expect(run.code).toBe(0);
    });

    it('exits 1 and prints file:line: message for each problem of a broken folder', async () => {
      writeFiles(join(work, 'broken'), {
        'faq/good.md': faqFile({ id: 'good-entry', title: '一个好条目' }),
        'faq/bad-yaml.md': '---\nid: bad-yaml\ntitle: 标题: 多了冒号\ncategory: 测试\nsources: [x]\n---\n正文',
        'faq/no-title.md': faqFile({ id: 'no-title', title: '' }),
        'synonyms.txt': '个人所得税 = 个税\n个体工商户 = 个税\n',
      });
      const run = await chunfeng(['kb', 'lint'], { KNOWLEDGE_DIR: 'broken' });
      expect(run.code).toBe(1);
      const lines = run.stdout.trimEnd().split('\n');
      for (const line of lines) expect(line).toMatch(/^[^:\s]+:\d+: \S/u);
      expect(lines).toEqual(
        expect.arrayContaining([
          expect.stringMatching(/^broken\/faq\/bad-yaml\.md:3: .*YAML/u),
          expect.stringMatching(/^broken\/faq\/no-title\.md:3: .*title/u),
          expect.stringMatching(/^broken\/synonyms\.txt:2: .*个税/u),
        ]),
      );
      expect(lines).toHaveLength(3);
    });
  });

  describe('chunfeng kb export', () => {
    it('prints every entry as one JSON array with the contract keys', async () => {
      const run = await chunfeng(['kb', 'export']);
      expect(run.code, run.stderr).toBe(0);
      const entries = JSON.parse(run.stdout) as Record<string, unknown>[];
      expect(Array.isArray(entries)).toBe(true);
      const expected = loadKnowledge(REAL_KNOWLEDGE, []).entries;
      // The knowledge's entries, then every article of the statutes that ship with the package.
      const [own, articles] = [entries.filter((e) => !String(e.id).startsWith('law/')), entries.filter((e) => String(e.id).startsWith('law/'))];
      expect(own.map((e) => e.id).sort()).toEqual(expected.map((e) => e.id).sort());
      expect(articles.length).toBeGreaterThan(1000);
      expect(articles.find((e) => e.id === 'law/税收征收管理法/51')).toMatchObject({ kind: 'policy', title: '《中华人民共和国税收征收管理法》第五十一条' });
      for (const e of entries) {
        expect(Object.keys(e)).toEqual(expect.arrayContaining(EXPORT_KEYS));
        expect(['faq', 'policy', 'referral']).toContain(e.kind);
        expect(e.questions).toEqual(expect.any(Array));
        expect(e.valid_until === null || /^\d{4}-\d{2}-\d{2}$/.test(e.valid_until as string)).toBe(true);
      }
      const lost = entries.find((e) => e.id === 'invoice-lost');
      const source = expected.find((e) => e.id === 'invoice-lost');
      expect(lost).toMatchObject({ kind: 'faq', title: source?.title, category: source?.category, answer: source?.answer, sources: source?.sources });
    });
  });

  describe('chunfeng eval', () => {
    it('prints top-1, top-3 and out-of-scope rejection', async () => {
      const file = join(work, 'mini.jsonl');
      writeFileSync(
        file,
        [
          { q: '发票弄丢了怎么处理', topic: 'invoice-lost' },
          { q: '每月几号之前要报税', topic: 'filing-deadline' },
          { q: '留抵退税', topic: 'vat-refund-apply' }, // a vague question: suggested, not answered
          { q: '今天天气怎么样', topic: null },
        ]
          .map((c) => JSON.stringify(c))
          .join('\n'),
      );
      const run = await chunfeng(['eval', file]);
      expect(run.code, run.stderr).toBe(0);
      const lines = run.stdout.split('\n');
      expect(lines).toContain('top-1: 66.7% (2/3)');
      expect(lines).toContain('top-3: 100.0% (3/3)');
      expect(lines).toContain('out-of-scope rejection: 100.0% (1/1)');
      for (const category of ['发票', '申报', '留抵退税']) expect(run.stdout).toMatch(new RegExp(`^${category}\\s`, 'mu'));
    });

    it('names the file and line of a line that is not JSON', async () => {
      const file = join(work, 'broken.jsonl');
      writeFileSync(file, '{"q": "发票丢了", "topic": "invoice-lost"}\n{"q": 发票\n');
      const run = await chunfeng(['eval', file]);
      expect(run.code).not.toBe(0);
      expect(run.stderr).toContain(`${file}:2:`);
    });
  });

  describe('chunfeng user', () => {
    /** A database of its own for each test, as the tests run side by side. */
    const database = (name: string): Record<string, string> => ({ DATABASE_URL: `sqlite:${join(work, 'data', `${name}.db`)}` });

    it('add prints the token once, on its own last line; the token belongs to the new account', async () => {
      const env = database('users-add');
      const run = await chunfeng(['user', 'add', '--role', 'agent', '--name', '李工'], env);
      expect(run.code, run.stderr).toBe(0);
      const lines = run.stdout.trimEnd().split('\n');
      expect(lines[0]).toMatch(/^已创建账号“李工”（坐席），编号 \S+$/);
      expect(lines[1]).toContain('令牌只显示这一次');
      const token = lines[2] as string;
      expect(token).toMatch(/^[A-Za-z0-9_-]{32}$/);

      const store = await openStore(env.DATABASE_URL as string);
      try {
        expect(await store.accounts.byToken(token)).toMatchObject({ name: '李工', role: 'agent', disabledAt: null });
      } finally {
        await store.close();
      }
      // The list never shows a token.
      const list = await chunfeng(['user', 'list'], env);
      expect(list.stdout).toContain('李工');
      expect(list.stdout).not.toContain(token);
    });

    it('list shows every account with its role and state; disable and enable change the state', async () => {
      const env = database('users-list');
      const added = await chunfeng(['user', 'add', '--role', 'staff', '--name', '第一分局 张科长', '--json'], env);
      expect(added.code, added.stderr).toBe(0);
      const account = JSON.parse(added.stdout) as { id: string; name: string; role: string; token: string; disabledAt: null };
      expect(account).toMatchObject({ name: '第一分局 张科长', role: 'staff', disabledAt: null });

      const disabled = await chunfeng(['user', 'disable', account.id], env);
      expect(disabled.code, disabled.stderr).toBe(0);
      expect(disabled.stdout).toBe('已停用账号“第一分局 张科长”（业务人员），其令牌随即失效\n');
      const list = await chunfeng(['user', 'list'], env);
      const row = list.stdout.split('\n').find((l) => l.startsWith(account.id)) as string;
      expect(row).toMatch(/第一分局 张科长\s+业务人员\s+\d{4}-\d\d-\d\d \d\d:\d\d\s+已停用（\d{4}-\d\d-\d\d \d\d:\d\d）$/);
      const json = JSON.parse((await chunfeng(['user', 'list', '--json'], env)).stdout) as { id: string; disabledAt: string | null }[];
      expect(json).toEqual([expect.objectContaining({ id: account.id, disabledAt: expect.any(String) })]);

      expect((await chunfeng(['user', 'enable', account.id], env)).stdout).toBe('已启用账号“第一分局 张科长”（业务人员），原令牌恢复有效\n');
      expect((await chunfeng(['user', 'list'], env)).stdout).toMatch(/业务人员\s+\S+ \S+\s+在用$/m);
    });

    it('says in Chinese what is wrong: exit 2 for a wrong call, 1 for an account that does not exist', async () => {
      const env = database('users-wrong');
      const cases: [string[], number, string][] = [
        [['user', 'add', '--role', 'root', '--name', '李工'], 2, 'user add 需要 --role，应为 admin、staff、agent 之一'],
        [['user', 'add', '--role', 'agent'], 2, 'user add 需要 --name 名称'],
        [['user', 'add', '--role', 'agent', '--name', '  '], 2, '--name 不正确：名称不能为空'],
        [['user', 'add', '--role', 'agent', '--nam', '李工'], 2, '不认识的参数：--nam'],
        [['user', 'disable'], 2, 'user disable 需要一个账号编号（见 chunfeng user list）'],
        [['user', 'disable', 'no-such-id'], 1, '没有编号为 no-such-id 的账号（见 chunfeng user list）'],
        [['user', 'remove', 'x'], 2, '未知的 user 子命令：remove'],
      ];
      for (const [args, code, message] of cases) {
        const run = await chunfeng(args, env);
        expect(run.code, args.join(' ')).toBe(code);
        expect(run.stderr.split('\n')[0], args.join(' ')).toBe(message);
        expect(run.stdout).toBe('');
      }
    });
  });

  describe('chunfeng subscribers import', () => {
    const database = (name: string): Record<string, string> => ({ DATABASE_URL: `sqlite:${join(work, 'data', `${name}.db`)}` });
    const file = (name: string, bytes: Buffer | string): string => {
      const path = join(work, name);
      writeFileSync(path, bytes);
      return path;
    };

    it('imports a GBK CSV, reports the bad row in Chinese and exits 1; the good rows are stored', async () => {
      const env = database('subscribers-csv');
      const csv = file('纳税人.csv', iconv.encode(`纳税人识别号,名称,纳税人类型,信用等级,主管分局,备注\r\n${uscc(1)},济南甲制造有限公司,一般纳税人,A,第一分局,\r\n${uscc(2)},济南乙商贸有限公司,小规模,E,第二分局,\r\n`, 'gbk'));
      const run = await chunfeng(['subscribers', 'import', csv], env);
      expect(run.code, run.stderr).toBe(1);
      expect(run.stdout).toBe([
        '读取 2 行（GBK 编码），导入 1 户（新增 1，更新 0）',
        '不认识的列（已忽略）：备注',
        '1 行有问题，没有导入：',
        '  第 3 行  信用等级：应为 A、B、M、C、D 之一（可以不填），现为“E”',
        '',
      ].join('\n'));
      const store = await openStore(env.DATABASE_URL as string);
      try {
        expect(await store.subscribers.get(uscc(1))).toMatchObject({ name: '济南甲制造有限公司', credit: 'A', office: '第一分局' });
        expect(await store.subscribers.get(uscc(2))).toBeNull();
      } finally {
        await store.close();
      }
    });

    it('imports a JSON array of Profiles and exits 0 when every item went in', async () => {
      const json = file('profiles.json', JSON.stringify([{ taxpayerId: uscc(3), name: '济南丙科技有限公司', taxpayerType: '一般纳税人', chats: [{ channel: 'telegram', chatId: '-100' }] }]));
      const run = await chunfeng(['subscribers', 'import', json], database('subscribers-json'));
      expect(run.code, run.stderr).toBe(0);
      expect(run.stdout).toBe('读取 1 项，导入 1 户（新增 1，更新 0）\n');
    });

    it('says in Chinese why a file cannot be imported at all', async () => {
      const env = database('subscribers-bad');
      const missing = await chunfeng(['subscribers', 'import', join(work, 'nope.csv')], env);
      expect(missing).toMatchObject({ code: 1, stderr: `无法读取文件 ${join(work, 'nope.csv')}：文件不存在\n` });
      const noId = await chunfeng(['subscribers', 'import', file('no-id.csv', '名称,纳税人类型\n甲,一般纳税人\n')], env);
      expect(noId.code).toBe(1);
      expect(noId.stderr).toContain('缺少必需的列：纳税人识别号');
      expect((await chunfeng(['subscribers', 'import'], env)).code).toBe(2);
    });
  });

  describe('chunfeng notices report', () => {
    it('prints a notice\'s figures by its number, the CSV with a BOM, and names a notice it does not know', async () => {
      const env = { DATABASE_URL: `sqlite:${join(work, 'data', 'notices.db')}` };
      const store = await openStore(env.DATABASE_URL);
      try {
        await importJson(store.subscribers, [
          { taxpayerId: uscc(11), name: '济南甲制造有限公司', taxpayerType: '一般纳税人', office: '第一分局', chats: [{ channel: 'telegram', chatId: '501' }] },
          { taxpayerId: uscc(12), name: '济南乙商贸有限公司', taxpayerType: '小规模纳税人', office: '第二分局', chats: [{ channel: 'wechat', chatId: 'wx-12' }] },
        ]);
        const notice = await store.notices.create({ title: '申报提醒', text: '请按期申报。', audience: {}, topics: [], reminders: [], items: [] }, 2, null);
        const started = await startDelivery(store, notice.id);
        await queueNotice(store, started!, () => undefined);
        await store.delivery.markRead(notice.id, { channel: 'telegram', chatId: '501' }, 'reply', new Date('2026-11-30T02:00:00Z'));
      } finally {
        await store.close();
      }
      const run = await chunfeng(['notices', 'report', '1'], env);
      expect(run.code, run.stderr).toBe(0);
      expect(run.stdout.split('\n').slice(1)).toEqual([
        '收件 2，已发送 0，已送达 0，失败 0，无法送达 0，待发送 2，已读 1，阅读率 50.0%',
        '按主管分局：',
        '  第一分局：收件 1，已发送 0，失败 0，无法送达 0，已读 1，阅读率 100.0%',
        '  第二分局：收件 1，已发送 0，失败 0，无法送达 0，已读 0，阅读率 0.0%',
        '',
      ]);
      const csv = await chunfeng(['notices', 'report', '1', '--csv'], env);
      expect(csv.stdout.split('\r\n')).toEqual([
        '\uFEFF纳税人识别号,名称,主管分局,渠道,聊天,收到的条目,发送状态,发送时间,阅读时间,确认方式,提醒次数,说明',
        `${uscc(11)},济南甲制造有限公司,第一分局,Telegram,501,,等待发送,,2026-11-30 10:00,回复,0,`,
        `${uscc(12)},济南乙商贸有限公司,第二分局,微信,wx-12,,等待发送,,,,0,`,
        '',
      ]);
      expect(await chunfeng(['notices', 'report', '9'], env)).toMatchObject({ code: 1, stderr: '没有通知 9\n' });
    });
  });

  describe('chunfeng report and chunfeng person', () => {
    const database = (name: string): Record<string, string> => ({ DATABASE_URL: `sqlite:${join(work, 'data', `${name}.db`)}` });
    /** 王先生 (telegram 523456789) asks twice in W48: one answer, one question nobody could answer. */
    async function seed(env: Record<string, string>): Promise<void> {
      const store = await openStore(env.DATABASE_URL as string);
      try {
        const chatId = await store.identities.upsertChat({ channel: 'telegram', channelChatId: '523456789', kind: 'private' });
        const userId = await store.identities.upsertUser({ channel: 'telegram', channelUserId: '523456789', displayName: '王先生' });
        const ask = (id: string, at: string, answered: boolean) => store.messages.record({
          channel: 'telegram', chatId, userId, direction: 'in', channelMessageId: id, text: `问题${id}`, at: new Date(at),
          decision: { answered, entryId: answered ? 'vat-rate' : null, score: 1, reason: answered ? 'answered' : 'no_match' },
        });
        await ask('1', '2026-11-24T01:30:00Z', true);
        await ask('2', '2026-11-24T02:30:00Z', false);
      } finally {
        await store.close();
      }
    }

    it('report --week prints the tables of the week in Beijing time; --csv the same as CSV with a BOM', async () => {
      const env = database('report');
      await seed(env);
      const text = await chunfeng(['report', '--week', '2026-W48'], env);
      expect(text.code, text.stderr).toBe(0);
      const lines = text.stdout.split('\n');
      expect(lines[0]).toMatch(/^春风服务报告 {2}2026-W48（北京时间） {2}生成于 \d{4}-\d{2}-\d{2} \d{2}:\d{2}$/);
      expect(lines.find((l) => l.startsWith('咨询量'))).toMatch(/^咨询量 +2 +向机器人提出的问题/);
      expect(lines.find((l) => l.startsWith('机器人解答率'))).toMatch(/^机器人解答率（无需人工） +50\.0% +1 \/ 2 /);
      expect(lines.find((l) => l.startsWith('09:00-10:00'))).toMatch(/^09:00-10:00 +1$/);
      const csv = await chunfeng(['report', '--week', '2026-W48', '--csv'], env);
      expect(csv.code, csv.stderr).toBe(0);
      expect(csv.stdout.startsWith('\uFEFF总体指标（2026-W48）\r\n指标,数值,计数,口径\r\n咨询量,2,,')).toBe(true);
      // The week before has no questions.
      expect((await chunfeng(['report', '--from', '2026-11-16', '--to', '2026-11-22'], env)).stdout).toMatch(/\n咨询量 +0 /);
    });

    it('report says in Chinese what is wrong with a week or a span, exit 2', async () => {
      const env = database('report-bad');
      for (const [args, message] of [
        [['--week', '2026-48'], '--week 不正确：“2026-48”不是 ISO 周，应写成 年-W周，例如 2026-W48'],
        [['--week', '2026-W54'], '--week 不正确：2026 年只有第 1 至第 53 周，没有第 54 周'],
        [['--from', '2026-11-01'], '--from 和 --to 要一起给出（YYYY-MM-DD，北京时间，含两端）'],
        [['--week', '2026-W48', '--from', '2026-11-01', '--to', '2026-11-02'], '--week 与 --from/--to 只能选一种'],
      ] as const) {
        const run = await chunfeng(['report', ...args], env);
        expect(run.code, args.join(' ')).toBe(2);
        expect(run.stderr.split('\n')[0]).toBe(message);
      }
    });

    it('person export prints their data as JSON; person delete needs a note and --yes, then deletes and says what', async () => {
      const env = database('person');
      await seed(env);
      const exported = await chunfeng(['person', 'export', '--channel', 'telegram', '--user', '523456789', '--note', '申请 1'], env);
      expect(exported.code, exported.stderr).toBe(0);
      const data = JSON.parse(exported.stdout) as { person: { displayName: string }; messages: { text: string }[] };
      expect(data.person.displayName).toBe('王先生');
      expect(data.messages.map((m) => m.text)).toEqual(['问题1', '问题2']);

      const unsure = await chunfeng(['person', 'delete', '--channel', 'telegram', '--user', '523456789', '--note', '申请 1'], env);
      expect(unsure.code).toBe(2);
      expect(unsure.stderr.split('\n')[0]).toBe('删除不可撤销：确认无误后加 --yes 再运行');
      const deleted = await chunfeng(['person', 'delete', '--channel', 'telegram', '--user', '523456789', '--note', '申请 1', '--yes'], env);
      expect(deleted.code, deleted.stderr).toBe(0);
      expect(deleted.stdout).toBe('已删除 telegram 用户 523456789 的数据：待发消息 0，消息 2，待选建议 0，绑定 0，订阅选择 0，绑定码记录 0，通知送达（去标识） 0，私聊 1，用户 1\n');
      const again = await chunfeng(['person', 'export', '--channel', 'telegram', '--user', '523456789'], env);
      expect(again).toMatchObject({ code: 1, stderr: '没有这位用户的数据（telegram 523456789）：可能从未联系过机器人，或已经删除\n' });

      const store = await openStore(env.DATABASE_URL as string);
      try {
        expect((await store.people.requests(10)).map((r) => [r.kind, r.actor.startsWith('cli:'), r.note])).toEqual([['delete', true, '申请 1'], ['export', true, '申请 1']]);
      } finally {
        await store.close();
      }
    });
  });

  describe('asking a command for help or calling it wrong', () => {
    it('--help after any command prints the usage and exits 0', async () => {
      for (const args of [['eval', '--help'], ['ask', '-h'], ['user', 'add', '--help']]) {
        const run = await chunfeng(args);
        expect(run.code, args.join(' ')).toBe(0);
        expect(run.stdout).toContain('用法：chunfeng');
      }
    });

    it('an unknown flag is named in Chinese with the usage, exit 2, not a stack trace', async () => {
      for (const args of [['eval', '--nope', 'x.jsonl'], ['ask', '--verbose', '发票丢了']]) {
        const run = await chunfeng(args);
        expect(run.code, args.join(' ')).toBe(2);
        expect(run.stderr.split('\n')[0]).toBe(`不认识的参数：${args[1]}`);
        expect(run.stderr).not.toContain('    at ');
      }
    });
  });

  describe('chunfeng with a bad configuration', () => {
    it('PORT=abc: exits non-zero with one line naming PORT', async () => {
      const run = await chunfeng(['ask', '--json', '发票丢了'], { PORT: 'abc' });
      expect(run.code).not.toBe(0);
      expect(run.stdout).toBe('');
      const lines = run.stderr.trimEnd().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toContain('PORT');
      expect(lines[0]).toContain('abc');
    });
  });
});
