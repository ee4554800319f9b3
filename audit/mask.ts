import { hasResidentIdShape, isHongKongId, passesLuhn } from './identity-numbers.js';
import type { MaskRule } from '../policies/types.js';

// Masking for audit summaries, logs and error details. Detectors look for personal data in any
// string and confirm it with its check digit before masking; field rules from the policy mask
// values by field name whatever they contain.

interface Detector {
  pattern: RegExp;
  confirm?: (match: string) => boolean;
  mask: (match: string) => string;
}

const stars = (n: number) => '*'.repeat(Math.max(n, 1));
const keepEnds = (value: string, head: number, tail: number) =>
  value.length <= head + tail ? stars(value.length) : value.slice(0, head) + stars(value.length - head - tail) + value.slice(value.length - tail);

const DETECTORS: Detector[] = [
  // GB 11643 resident ID, mistyped ones included: the first three and last four stay.
  { pattern: /(?<![0-9A-Za-z])[1-9][0-9]{16}[0-9Xx](?![0-9A-Za-z])/g, confirm: hasResidentIdShape, mask: (m) => keepEnds(m, 3, 4) },
  // Hong Kong identity card, e.g. A123456(3).
  { pattern: /(?<![0-9A-Za-z])[A-Z]{1,2}[0-9]{6}\(?[0-9A]\)?(?![0-9A-Za-z])/g, confirm: isHongKongId, mask: (m) => m.slice(0, 1) + stars(m.length - 1) },
  // Bank cards pass Luhn.
  { pattern: /(?<![0-9])[0-9]{12,19}(?![0-9])/g, confirm: passesLuhn, mask: (m) => keepEnds(m, 4, 4) },
  // Mainland mobile numbers, with or without +86.
  { pattern: /(?<![0-9])(?:\+?86[- ]?)?1[3-9][0-9]{9}(?![0-9])/g, mask: (m) => keepEnds(m, m.length - 8, 4) },
  // Hong Kong and Macau numbers written with their country codes.
  { pattern: /\+?(?:852|853)[- ]?[0-9]{4}[- ]?[0-9]{4}(?![0-9])/g, mask: (m) => keepEnds(m, 4, 2) },
  // E-mail: the first character of the local part stays.
  { pattern: /[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}/g, mask: (m) => m[0] + '***' + m.slice(m.indexOf('@')) },
];

/** Field names whose values are secrets, whatever the policy says. */
const SECRET_FIELD = /pass(word|phrase)?|secret|token|authori[sz]ation|credential|private.?key|cookie/i;

// Every detector needs a digit or an '@'; most strings (names, statuses) have neither.
const MAYBE_PERSONAL = /[0-9@]/;

export function maskString(value: string): string {
  if (!MAYBE_PERSONAL.test(value)) return value;
  let out = value;
  for (const detector of DETECTORS) {
    detector.pattern.lastIndex = 0;
    if (!detector.pattern.test(out)) continue;
    detector.pattern.lastIndex = 0;
    out = out.replace(detector.pattern, (match) => (detector.confirm && !detector.confirm(match) ? match : detector.mask(match)));
  }
  return out;
}

function applyRule(rule: MaskRule, value: unknown): unknown {
  if (rule === 'drop') return undefined;
  const text = typeof value === 'string' ? value : JSON.stringify(value) ?? '';
  switch (rule) {
    case 'name':
      // 张三 → 张*, 欧阳娜娜 → 欧***: the family name stays, the given name goes.
      return [...text].length <= 1 ? '*' : [...text][0] + stars([...text].length - 1);
    case 'district': {
      // Keep the address down to the district or county, nothing finer.
      const match = /^.*?(?:区|县|旗|District|市(?!.*[区县旗]))/.exec(text);
      return match ? match[0] + '***' : '***';
    }
    case 'partial': {
      const chars = [...text];
      const keep = Math.floor(chars.length / 4);
      return chars.slice(0, keep).join('') + stars(chars.length - 2 * keep) + chars.slice(chars.length - keep).join('');
    }
    case 'full':
      return '***';
  }
}

export interface FieldRule {
  field: string;
  rule: MaskRule;
}

export interface Masker {
  /** A masked deep copy; strings are scanned, named fields follow their rule. */
  mask(value: unknown): unknown;
  /** The masked value as JSON text of at most `maxChars` characters. */
  summary(value: unknown, maxChars: number): string | undefined;
}

const MAX_DEPTH = 8;
const MAX_ITEMS = 50;

export function createMasker(fieldRules: readonly FieldRule[]): Masker {
  const rules = new Map(fieldRules.map((r) => [r.field.toLowerCase(), r.rule]));

  function walk(value: unknown, depth: number): unknown {
    if (typeof value === 'string') return maskString(value);
    if (typeof value === 'number') return Number.isInteger(value) && Math.abs(value) > 99_999_999 ? maskString(String(value)) : value;
    if (value === null || typeof value !== 'object') return value;
    if (depth >= MAX_DEPTH) return '[…]';
    if (Array.isArray(value)) {
      const items = value.slice(0, MAX_ITEMS).map((v) => walk(v, depth + 1));
      if (value.length > MAX_ITEMS) items.push(`[+${value.length - MAX_ITEMS} more]`);
      return items;
    }
    const out: Record<string, unknown> = {};
    for (const [key, child] of Object.entries(value)) {
      const rule = SECRET_FIELD.test(key) ? 'full' : rules.get(key.toLowerCase());
      const masked = rule ? applyRule(rule, child) : walk(child, depth + 1);
      if (masked !== undefined) out[key] = masked;
    }
    return out;
  }

  return {
    mask: (value) => walk(value, 0),
    summary(value, maxChars) {
      if (value === undefined) return undefined;
      const text = JSON.stringify(walk(value, 0));
      return text.length <= maxChars ? text : text.slice(0, maxChars - 12) + '…(truncated)';
    },
  };
}
