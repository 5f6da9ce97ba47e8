import {
  readCredit, readIndustry, readName, readPlace, readTags, readTaxpayerId, readTaxpayerType,
  type CreditGrade, type Reading, type TaxpayerType,
} from './vocabulary.js';

/** The channels a chat can be linked on. */
export const CHAT_CHANNELS = ['telegram', 'wechat'] as const;

/** One of {@link CHAT_CHANNELS}. */
export type ChatChannel = (typeof CHAT_CHANNELS)[number];

/** A chat as its network names it: the contract's `{"channel", "chatId"}`. */
export interface ChatRef {
  readonly channel: ChatChannel;
  readonly chatId: string;
}

/** The fields of a profile that may be left out of an import, keeping what is stored. */
export interface ProfileDetails {
  /** A section letter of 国民经济行业分类 (A-T). */
  readonly industry: string | null;
  readonly credit: CreditGrade | null;
  /** 主管分局 as the office writes it. */
  readonly office: string | null;
  readonly region: string | null;
  readonly tags: readonly string[];
}

/** A taxpayer profile as stored and matched against audiences. */
export interface Profile extends ProfileDetails {
  readonly taxpayerId: string;
  readonly name: string;
  readonly taxpayerType: TaxpayerType;
}

/**
 * What one imported row or JSON object says: the id, name and type always, the other fields only
 * when the file has their column or the object their key (a file without a 标签 column leaves the
 * stored tags alone; an empty cell clears them).
 */
export interface ProfileUpdate extends Partial<ProfileDetails> {
  readonly taxpayerId: string;
  readonly name: string;
  readonly taxpayerType: TaxpayerType;
}

/** A valid import item: the update, and chats to link to the profile (links are only ever added by an import). */
export interface ValidProfile {
  readonly update: ProfileUpdate;
  readonly chats: readonly ChatRef[];
}

/** A profile field or `chats`: the contract's keys. */
export type ProfileField = keyof Profile | 'chats';

/** Each field as staff name it: error messages, the CSV template, the console. */
export const FIELD_LABELS: Readonly<Record<ProfileField, string>> = {
  taxpayerId: '纳税人识别号',
  name: '名称',
  taxpayerType: '纳税人类型',
  industry: '行业',
  credit: '信用等级',
  office: '主管分局',
  region: '地区',
  tags: '标签',
  chats: '聊天',
};

/** What is wrong with one field of one item. */
export interface FieldError {
  readonly field: ProfileField | null;
  readonly message: string;
}

/** A validated item or everything wrong with it. */
export type Checked = { readonly ok: true; readonly value: ValidProfile } | { readonly ok: false; readonly errors: FieldError[] };

/** The most chats one import item may link. */
export const MAX_CHATS = 10;

/** Whether a text is a chat id the channel could have given: Telegram's are integers, WeChat's have no spaces. */
function readChat(value: unknown): Reading<ChatRef> {
  const wrong = { ok: false as const, message: '每一项应为 {"channel": "telegram" 或 "wechat", "chatId": "..."}' };
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return wrong;
  const { channel, chatId, ...rest } = value as Record<string, unknown>;
  if (Object.keys(rest).length > 0 || typeof channel !== 'string' || !(CHAT_CHANNELS as readonly string[]).includes(channel)) return wrong;
  const id = typeof chatId === 'number' && Number.isSafeInteger(chatId) ? String(chatId) : chatId;
  if (typeof id !== 'string' || id.length === 0 || id.length > 100 || /\s/.test(id)) return { ok: false, message: 'chatId 应为 1-100 个字符、不含空格' };
  if (channel === 'telegram' && !/^-?\d{1,20}$/.test(id)) return { ok: false, message: `Telegram 的 chatId 应为整数，现为“${id}”` };
  return { ok: true, value: { channel: channel as ChatChannel, chatId: id } };
}

/** A raw value of one field, from a CSV cell or a JSON value; `undefined` when the item does not have it. */
type RawFields = Partial<Record<ProfileField, unknown>>;

/**
 * Validates one item field by field, collecting every problem (a clerk fixes a row once, not once per
 * problem). Text fields take a string (JSON null or an empty string clears an optional field); tags
 * take a list or one string of separated tags.
 */
function check(raw: RawFields): Checked {
  const errors: FieldError[] = [];
  const read = <T>(field: ProfileField, reader: (text: string) => Reading<T>, optional: boolean): T | undefined => {
    // JSON null clears an optional field, as an empty cell does.
    const value = optional && raw[field] === null ? '' : raw[field];
    if (value === undefined && optional) return undefined;
    if (typeof value !== 'string') {
      errors.push({ field, message: value === undefined || value === null ? '不能为空' : '应为文字' });
      return undefined;
    }
    const reading = reader(value);
    if (!reading.ok) errors.push({ field, message: reading.message });
    return reading.ok ? reading.value : undefined;
  };
  const taxpayerId = read('taxpayerId', readTaxpayerId, false);
  const name = read('name', readName, false);
  const taxpayerType = read('taxpayerType', readTaxpayerType, false);
  const industry = read('industry', readIndustry, true);
  const credit = read('credit', readCredit, true);
  const office = read('office', readPlace, true);
  const region = read('region', readPlace, true);

  let tags: string[] | undefined;
  if (raw.tags !== undefined) {
    const value = raw.tags === null ? [] : raw.tags;
    const reading = typeof value === 'string' || (Array.isArray(value) && value.every((t) => typeof t === 'string')) ? readTags(value as string | string[]) : { ok: false as const, message: '应为文字列表' };
    if (reading.ok) tags = reading.value;
    else errors.push({ field: 'tags', message: reading.message });
  }

  const chats: ChatRef[] = [];
  if (raw.chats !== undefined && raw.chats !== null) {
    if (!Array.isArray(raw.chats)) errors.push({ field: 'chats', message: '应为列表' });
    else if (raw.chats.length > MAX_CHATS) errors.push({ field: 'chats', message: `最多 ${MAX_CHATS} 个` });
    else {
      for (const item of raw.chats) {
        const reading = readChat(item);
        if (!reading.ok) errors.push({ field: 'chats', message: reading.message });
        else if (!chats.some((c) => c.channel === reading.value.channel && c.chatId === reading.value.chatId)) chats.push(reading.value);
      }
    }
  }

  if (errors.length > 0 || taxpayerId === undefined || name === undefined || taxpayerType === undefined) return { ok: false, errors };
  const update: ProfileUpdate = {
    taxpayerId, name, taxpayerType,
    ...(industry !== undefined ? { industry } : {}),
    ...(credit !== undefined ? { credit } : {}),
    ...(office !== undefined ? { office } : {}),
    ...(region !== undefined ? { region } : {}),
    ...(tags !== undefined ? { tags } : {}),
  };
  return { ok: true, value: { update, chats } };
}

const JSON_KEYS = new Set<string>(Object.keys(FIELD_LABELS));

/** Validates one element of a `POST /api/subscribers` body (a contract Profile); unknown keys are refused. */
export function checkProfileJson(value: unknown): Checked {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return { ok: false, errors: [{ field: null, message: '每一项应为一个纳税人对象' }] };
  const unknown = Object.keys(value).filter((k) => !JSON_KEYS.has(k));
  if (unknown.length > 0) return { ok: false, errors: [{ field: null, message: `不认识的字段 ${unknown.join('、')}` }] };
  return check(value as RawFields);
}

/** Validates one CSV row given as its cells by field (fields without a column are absent). */
export function checkProfileCells(cells: Partial<Record<ProfileField, string>>): Checked {
  return check(cells);
}

/** A stored profile after an update: the update's fields over what was stored (or the defaults for a new one). */
export function applyUpdate(stored: Profile | null, update: ProfileUpdate): Profile {
  const base: ProfileDetails = stored ?? { industry: null, credit: null, office: null, region: null, tags: [] };
  return {
    taxpayerId: update.taxpayerId,
    name: update.name,
    taxpayerType: update.taxpayerType,
    industry: update.industry !== undefined ? update.industry : base.industry,
    credit: update.credit !== undefined ? update.credit : base.credit,
    office: update.office !== undefined ? update.office : base.office,
    region: update.region !== undefined ? update.region : base.region,
    tags: update.tags ?? base.tags,
  };
}

/**
 * Items whose taxpayer id an earlier item already has: position -> the earlier position. A file or
 * request that names a taxpayer twice is a mistake staff must resolve, not a case for "last wins".
 */
export function repeatedIds(ids: readonly (string | null)[]): Map<number, number> {
  const first = new Map<string, number>();
  const repeats = new Map<number, number>();
  ids.forEach((id, i) => {
    if (id === null) return;
    const earlier = first.get(id);
    if (earlier === undefined) first.set(id, i);
    else repeats.set(i, earlier);
  });
  return repeats;
}

/** One line of an error report: `信用等级：应为 A、B、M、C、D 之一`. */
export function describeError(error: FieldError): string {
  return error.field ? `${FIELD_LABELS[error.field]}：${error.message}` : error.message;
}
