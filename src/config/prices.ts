import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ConfigError } from './env.js';

/**
 * The price table: what each billable action costs per month, per app. The defaults below are placeholders
 * shaped like a public cloud's list prices (a free allowance, then volume tiers); an operator who bills
 * customers replaces them with IMGSENSE_PRICES_FILE. docs/api.md (Billing) explains the two tier modes.
 */
export interface PriceTier {
  /** Inclusive upper bound of monthly billable units in this tier; absent on the last, open-ended tier. */
  upTo?: number;
  pricePerThousand: number;
}

export interface ActionPrice {
  /** What one unit is, for the bill: 'call', 'image', 'megapixel'. */
  unit: string;
  /** Units per app per calendar month (UTC) that are not charged. */
  freePerMonth: number;
  /**
   * 'whole': the month's whole billable volume at the price of the tier it reached (Tencent Cloud's rule);
   * 'progressive': each unit at the price of the tier it falls in (income-tax style).
   */
  mode: 'whole' | 'progressive';
  tiers: PriceTier[];
}

export interface PriceTable {
  currency: string;
  actions: Record<string, ActionPrice>;
}

const callTiers = (a: number, b: number, c: number): PriceTier[] => [
  { upTo: 1_000_000, pricePerThousand: a },
  { upTo: 10_000_000, pricePerThousand: b },
  { pricePerThousand: c },
];

const call = (free: number, a: number, b: number, c: number): ActionPrice => ({ unit: 'call', freePerMonth: free, mode: 'whole', tiers: callTiers(a, b, c) });

export const defaultPrices: PriceTable = {
  currency: 'USD',
  actions: {
    'images.process': call(10_000, 0.2, 0.15, 0.1),
    'images.info': call(10_000, 0.05, 0.04, 0.03),
    'vision.objects': call(1_000, 1.0, 0.8, 0.6),
    'vision.labels': call(1_000, 1.0, 0.8, 0.6),
    'vision.moderation': call(1_000, 0.8, 0.6, 0.4),
    'faces.detect': call(1_000, 1.0, 0.8, 0.6),
    'images.segment': call(1_000, 1.5, 1.2, 0.9),
    // Upscaling costs what it produces, so it is priced per output megapixel, progressively.
    'images.upscale': {
      unit: 'megapixel', freePerMonth: 100, mode: 'progressive',
      tiers: [{ upTo: 100_000, pricePerThousand: 2.0 }, { pricePerThousand: 1.5 }],
    },
  },
};

const actionName = /^[a-z][a-z0-9]*(\.[a-z][a-z0-9-]*)+$/;

/** Checks a parsed price table; `where` names the source (the file) in every message. */
export function validatePrices(input: unknown, where: string): PriceTable {
  const fail = (at: string, expected: string, received: unknown): never => {
    throw new ConfigError(`Expected ${expected} for ${at} in ${where} but received ${JSON.stringify(received) ?? 'nothing'}`);
  };
  const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
  const nonNegative = (v: unknown, at: string): number =>
    typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : fail(at, 'a number of at least 0', v);
  const onlyKeys = (obj: Record<string, unknown>, allowed: string[], at: string) => {
    const extra = Object.keys(obj).find((k) => !allowed.includes(k));
    if (extra !== undefined) fail(`${at}.${extra}`, `only ${allowed.join(', ')}`, extra);
  };

  if (!isObject(input)) fail('the top level', 'an object { currency?, actions }', input);
  const root = input as Record<string, unknown>;
  onlyKeys(root, ['currency', 'actions'], '$');
  const currency = root.currency ?? defaultPrices.currency;
  if (typeof currency !== 'string' || !/^[A-Z]{3}$/.test(currency)) fail('$.currency', 'a three-letter currency code such as USD', currency);
  if (!isObject(root.actions)) fail('$.actions', 'an object of action name -> price', root.actions);
  const actions: Record<string, ActionPrice> = {};
  for (const [name, raw] of Object.entries(root.actions as Record<string, unknown>)) {
    const at = `$.actions["${name}"]`;
    if (!actionName.test(name)) fail(at, 'an action name such as vision.objects', name);
    if (!isObject(raw)) fail(at, 'an object { unit?, freePerMonth?, mode?, tiers }', raw);
    const price = raw as Record<string, unknown>;
    onlyKeys(price, ['unit', 'freePerMonth', 'mode', 'tiers'], at);
    const unit = price.unit ?? 'call';
    if (typeof unit !== 'string' || !/^[a-z-]{1,32}$/.test(unit)) fail(`${at}.unit`, 'a unit name such as call or megapixel', unit);
    const mode = price.mode ?? 'whole';
    if (mode !== 'whole' && mode !== 'progressive') fail(`${at}.mode`, 'one of whole, progressive', mode);
    const freePerMonth = price.freePerMonth === undefined ? 0 : nonNegative(price.freePerMonth, `${at}.freePerMonth`);
    if (!Array.isArray(price.tiers) || price.tiers.length === 0) fail(`${at}.tiers`, 'a non-empty array of { upTo?, pricePerThousand }', price.tiers);
    const tiers: PriceTier[] = [];
    const list = price.tiers as unknown[];
    list.forEach((t, i) => {
      const tierAt = `${at}.tiers[${i}]`;
      if (!isObject(t)) fail(tierAt, 'an object { upTo?, pricePerThousand }', t);
      const tier = t as Record<string, unknown>;
      onlyKeys(tier, ['upTo', 'pricePerThousand'], tierAt);
      const pricePerThousand = nonNegative(tier.pricePerThousand, `${tierAt}.pricePerThousand`);
      const last = i === list.length - 1;
      if (last && tier.upTo !== undefined) fail(`${tierAt}.upTo`, 'no upTo on the last tier (it is open-ended)', tier.upTo);
      if (!last) {
        const upTo = nonNegative(tier.upTo, `${tierAt}.upTo`);
        const previous = tiers[i - 1]?.upTo ?? 0;
        if (upTo <= previous) fail(`${tierAt}.upTo`, `a number greater than ${previous} (tiers ascend)`, upTo);
        tiers.push({ upTo, pricePerThousand });
      } else {
        tiers.push({ pricePerThousand });
      }
    });
    actions[name] = { unit: unit as string, freePerMonth, mode: mode as ActionPrice['mode'], tiers };
  }
  return { currency: currency as string, actions };
}

/**
 * The table in force: the defaults, or the operator's file. The file replaces the default price of each
 * action it names, keeps the others, and may add actions of its own; its currency applies to all of them.
 */
export function loadPrices(file: string, cwd = process.cwd()): PriceTable {
  if (file === '') return defaultPrices;
  const resolved = path.resolve(cwd, file);
  let text: string;
  try {
    text = readFileSync(resolved, 'utf8');
  } catch (error) {
    throw new ConfigError(`Expected a readable JSON file for IMGSENSE_PRICES_FILE but could not read ${resolved}: ${(error as Error).message}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new ConfigError(`Expected valid JSON in ${resolved} (IMGSENSE_PRICES_FILE) but received ${(error as Error).message}`);
  }
  const table = validatePrices(parsed, `${resolved} (IMGSENSE_PRICES_FILE)`);
  return { currency: table.currency, actions: { ...defaultPrices.actions, ...table.actions } };
}
