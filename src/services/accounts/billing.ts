import type { ActionPrice, PriceTable, PriceTier } from '../../config/prices.js';

/**
 * Pure billing maths: one month of one app's usage, priced. No I/O, no clock, so every rule (free allowance,
 * tier edges, the two tier modes) is a unit test away.
 */

/** One action's month as the usage records give it. */
export interface ActionUsage {
  action: string;
  /** Every record, failed ones included. */
  calls: number;
  failedCalls: number;
  /** Units of successful calls only: failed calls are never billed. */
  successUnits: number;
}

export interface BillLine {
  action: string;
  unit: string;
  calls: number;
  failedCalls: number;
  /** Units of successful calls. */
  units: number;
  /** Of those, covered by the monthly free allowance. */
  freeUnits: number;
  billableUnits: number;
  mode: ActionPrice['mode'] | null;
  /** The tier the month reached (1-based), with its bound and price; null when nothing is billable or unpriced. */
  tier: { index: number; upTo: number | null; pricePerThousand: number } | null;
  amount: number;
  /** false when the price table has no entry for this action: listed, not charged. */
  priced: boolean;
}

export interface Bill {
  currency: string;
  lines: BillLine[];
  total: number;
}

/** Money in the currency's minor unit (cents), rounded half up; floats are only used before this point. */
export function roundMoney(amount: number): number {
  return Math.round((amount + Number.EPSILON) * 100) / 100;
}

/** Index of the tier a monthly volume falls in: the first whose inclusive upper bound holds it. */
export function tierIndex(tiers: readonly PriceTier[], volume: number): number {
  const i = tiers.findIndex((t) => t.upTo === undefined || volume <= t.upTo);
  return i < 0 ? tiers.length - 1 : i;
}

/** What `billable` units cost in one month under one price (before rounding; multiply first, so whole numbers stay exact). */
export function tieredAmount(price: ActionPrice, billable: number): { amount: number; tier: number } {
  if (billable <= 0) return { amount: 0, tier: -1 };
  const reached = tierIndex(price.tiers, billable);
  if (price.mode === 'whole') {
    return { amount: (billable * price.tiers[reached]!.pricePerThousand) / 1000, tier: reached };
  }
  let amount = 0;
  let lower = 0;
  for (let i = 0; i <= reached; i++) {
    const tier = price.tiers[i]!;
    const upper = Math.min(billable, tier.upTo ?? Infinity);
    amount += ((upper - lower) * tier.pricePerThousand) / 1000;
    lower = upper;
  }
  return { amount, tier: reached };
}

/**
 * Prices one action's month. The free allowance comes off first; the tiers then apply to what is left (the
 * volume the app pays for), so an app's first paid unit is always at the first tier's price.
 */
export function priceLine(usage: ActionUsage, price: ActionPrice | undefined): BillLine {
  const base = { action: usage.action, calls: usage.calls, failedCalls: usage.failedCalls, units: usage.successUnits };
  if (!price) {
    return { ...base, unit: 'call', freeUnits: 0, billableUnits: usage.successUnits, mode: null, tier: null, amount: 0, priced: false };
  }
  const freeUnits = Math.min(usage.successUnits, price.freePerMonth);
  const billableUnits = usage.successUnits - freeUnits;
  const { amount, tier } = tieredAmount(price, billableUnits);
  const reached = tier >= 0 ? price.tiers[tier]! : undefined;
  return {
    ...base,
    unit: price.unit,
    freeUnits,
    billableUnits,
    mode: price.mode,
    tier: reached ? { index: tier + 1, upTo: reached.upTo ?? null, pricePerThousand: reached.pricePerThousand } : null,
    amount: roundMoney(amount),
    priced: true,
  };
}

/** A month's bill: one line per action used, in name order; the total is the sum of the rounded lines. */
export function computeBill(usage: readonly ActionUsage[], prices: PriceTable): Bill {
  const lines = [...usage].sort((a, b) => a.action.localeCompare(b.action)).map((u) => priceLine(u, prices.actions[u.action]));
  return { currency: prices.currency, lines, total: roundMoney(lines.reduce((sum, l) => sum + l.amount, 0)) };
}
