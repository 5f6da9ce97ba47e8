import type { Profile } from './profile.js';
import { FIELD_LABELS } from './profile.js';
import {
  TAXPAYER_TYPE_GROUPS, cleanCell, readCredit, readIndustry, readPlace, readTaxpayerType,
  type CreditGrade, type Reading, type TaxpayerType,
} from './vocabulary.js';

/** The profile fields an audience can filter on (the contract's Audience keys). */
export const AUDIENCE_FIELDS = ['taxpayerType', 'industry', 'credit', 'office', 'region', 'tags'] as const;

/** One of {@link AUDIENCE_FIELDS}. */
export type AudienceField = (typeof AUDIENCE_FIELDS)[number];

/**
 * Who a notice or a pack item is for: each field a list of accepted values (any of them), every
 * field given must hold (all of them); a field left out, or given as an empty list, does not filter.
 * `{}` is everyone. Values are in their stored form (industry as its section letter).
 */
export interface Audience {
  readonly taxpayerType?: readonly TaxpayerType[];
  readonly industry?: readonly string[];
  readonly credit?: readonly CreditGrade[];
  readonly office?: readonly string[];
  readonly region?: readonly string[];
  readonly tags?: readonly string[];
}

/** Values one audience field may list. */
export const MAX_AUDIENCE_VALUES = 200;

/** The readers of each field's values: how staff may write them, the stored form they give. */
const READERS: Readonly<Record<AudienceField, (text: string) => Reading<string[]>>> = {
  taxpayerType(text) {
    const group = TAXPAYER_TYPE_GROUPS[cleanCell(text)];
    if (group) return { ok: true, value: [...group] };
    const one = readTaxpayerType(text);
    return one.ok ? { ok: true, value: [one.value] } : one;
  },
  industry: (text) => nonEmpty(readIndustry(text)),
  credit: (text) => nonEmpty(readCredit(text)),
  office: (text) => nonEmpty(readPlace(text)),
  region: (text) => nonEmpty(readPlace(text)),
  tags(text) {
    const tag = cleanCell(text);
    return tag ? { ok: true, value: [tag] } : { ok: false, message: '不能为空' };
  },
};

/** A reading of one value that may not be empty here (an audience of "no credit grade" means nothing). */
function nonEmpty(reading: Reading<string | null>): Reading<string[]> {
  if (!reading.ok) return reading;
  return reading.value === null ? { ok: false, message: '不能为空' } : { ok: true, value: [reading.value] };
}

/**
 * An audience as given (an API body, an entry's front matter) read into stored values: 企业 becomes
 * 一般纳税人 and 小规模纳税人, "制造业" becomes "C", "A级" "A". Every problem is listed, each naming
 * its field: unknown fields are refused rather than ignored, since ignoring one would widen the
 * audience to people it was meant to leave out.
 */
export function readAudience(raw: unknown): { ok: true; audience: Audience } | { ok: false; errors: string[] } {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return { ok: false, errors: ['发送对象应为 {"字段": [取值, ...]} 的形式'] };
  const errors: string[] = [];
  const audience: Record<string, string[]> = {};
  for (const [field, values] of Object.entries(raw)) {
    if (!(AUDIENCE_FIELDS as readonly string[]).includes(field)) {
      errors.push(`不认识的发送对象字段 ${field}（可用：${AUDIENCE_FIELDS.join('、')}）`);
      continue;
    }
    const label = FIELD_LABELS[field as AudienceField];
    if (!Array.isArray(values) || values.some((v) => typeof v !== 'string')) {
      errors.push(`${label}：应为文字列表`);
      continue;
    }
    if (values.length > MAX_AUDIENCE_VALUES) {
      errors.push(`${label}：最多 ${MAX_AUDIENCE_VALUES} 个取值`);
      continue;
    }
    const read: string[] = [];
    for (const value of values as string[]) {
      const reading = READERS[field as AudienceField](value);
      if (!reading.ok) errors.push(`${label}：${reading.message}`);
      else for (const v of reading.value) if (!read.includes(v)) read.push(v);
    }
    if (read.length > 0) audience[field] = read;
  }
  return errors.length > 0 ? { ok: false, errors } : { ok: true, audience: audience as Audience };
}

/** Whether a profile is in an audience: for every field the audience lists, the profile's value is one of them (tags: any shared). */
export function matchesAudience(profile: Profile, audience: Audience): boolean {
  for (const field of AUDIENCE_FIELDS) {
    const accepted = audience[field] as readonly string[] | undefined;
    if (!accepted || accepted.length === 0) continue;
    if (field === 'tags') {
      if (!profile.tags.some((t) => accepted.includes(t))) return false;
    } else {
      const value = profile[field];
      if (value === null || !accepted.includes(value)) return false;
    }
  }
  return true;
}

/** Whether an audience filters nothing: everyone. */
export function isEveryone(audience: Audience): boolean {
  return AUDIENCE_FIELDS.every((f) => !audience[f]?.length);
}
