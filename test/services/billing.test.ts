import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { ConfigError } from '../../src/config/env.js';
import { defaultPrices, loadPrices, validatePrices, type ActionPrice } from '../../src/config/prices.js';
import { computeBill, priceLine, roundMoney, tierIndex, tieredAmount } from '../../src/services/accounts/billing.js';

// 0-1,000 at 10 per thousand, 1,001-5,000 at 8, above at 5.
const tiers = [{ upTo: 1000, pricePerThousand: 10 }, { upTo: 5000, pricePerThousand: 8 }, { pricePerThousand: 5 }];
const whole: ActionPrice = { unit: 'call', freePerMonth: 0, mode: 'whole', tiers };
const progressive: ActionPrice = { ...whole, mode: 'progressive' };
const usage = (successUnits: number, calls = successUnits, failedCalls = 0) => ({ action: 'vision.objects', calls, failedCalls, successUnits });

describe('billing maths', () => {
  it('tier edges are inclusive upper bounds', () => {
    assert.equal(tierIndex(tiers, 1), 0);
    assert.equal(tierIndex(tiers, 1000), 0);
    assert.equal(tierIndex(tiers, 1000.5), 1);
    assert.equal(tierIndex(tiers, 1001), 1);
    assert.equal(tierIndex(tiers, 5000), 1);
    assert.equal(tierIndex(tiers, 5001), 2);
    assert.equal(tierIndex(tiers, 1e12), 2);
  });

  it("whole mode: the month's whole volume at the price of the tier reached", () => {
    assert.deepEqual(tieredAmount(whole, 1000), { amount: 10, tier: 0 });
    assert.deepEqual(tieredAmount(whole, 1001), { amount: 1001 * 8 / 1000, tier: 1 });
    assert.deepEqual(tieredAmount(whole, 5000), { amount: 40, tier: 1 });
    assert.deepEqual(tieredAmount(whole, 5001), { amount: 5001 * 5 / 1000, tier: 2 });
    // Crossing into a cheaper tier can lower the bill: that is the rule, and why progressive exists.
    assert.ok(tieredAmount(whole, 5001).amount < tieredAmount(whole, 5000).amount);
  });

  it('progressive mode: each unit at the price of the tier it falls in', () => {
    assert.deepEqual(tieredAmount(progressive, 1000), { amount: 10, tier: 0 });
    assert.equal(tieredAmount(progressive, 1001).amount, 10 + 8 / 1000);
    assert.equal(tieredAmount(progressive, 5000).amount, 10 + 32);
    assert.equal(tieredAmount(progressive, 7000).amount, 10 + 32 + 10);
    assert.equal(tieredAmount(progressive, 7000).tier, 2);
    assert.deepEqual(tieredAmount(progressive, 0), { amount: 0, tier: -1 });
  });

  it('the free allowance comes off first; the tiers apply to the rest', () => {
    const free: ActionPrice = { ...whole, freePerMonth: 500 };
    const within = priceLine(usage(500), free);
    assert.deepEqual([within.freeUnits, within.billableUnits, within.amount, within.tier], [500, 0, 0, null]);
    const over = priceLine(usage(1600), free);
    // 1,100 billable: tier 2 in whole mode.
    assert.deepEqual([over.freeUnits, over.billableUnits, over.amount], [500, 1100, 8.8]);
    assert.deepEqual(over.tier, { index: 2, upTo: 5000, pricePerThousand: 8 });
    const p = priceLine(usage(1600), { ...free, mode: 'progressive' });
    assert.equal(p.amount, 10.8);
    assert.deepEqual(priceLine(usage(7000), { ...progressive }).tier, { index: 3, upTo: null, pricePerThousand: 5 });
  });

  it('fractional units (megapixels) and rounding to cents, half up', () => {
    assert.equal(roundMoney(0.005), 0.01);
    assert.equal(roundMoney(1.004999), 1);
    assert.equal(roundMoney(0.1 + 0.2), 0.3);
    const mp: ActionPrice = { unit: 'megapixel', freePerMonth: 0.5, mode: 'progressive', tiers: [{ pricePerThousand: 2 }] };
    const line = priceLine({ action: 'images.upscale', calls: 3, failedCalls: 0, successUnits: 12.345 }, mp);
    assert.equal(line.billableUnits, 12.345 - 0.5);
    assert.equal(line.amount, 0.02);
    assert.equal(line.unit, 'megapixel');
  });

  it('a bill has one line per action in name order, unpriced actions listed at zero, and a total of the lines', () => {
    const bill = computeBill([
      { action: 'vision.objects', calls: 2000, failedCalls: 10, successUnits: 1990 },
      { action: 'custom.thing', calls: 3, failedCalls: 0, successUnits: 3 },
      { action: 'images.info', calls: 5, failedCalls: 5, successUnits: 0 },
    ], { currency: 'EUR', actions: { 'vision.objects': whole, 'images.info': whole } });
    assert.equal(bill.currency, 'EUR');
    assert.deepEqual(bill.lines.map((l) => [l.action, l.billableUnits, l.amount, l.priced]), [
      ['custom.thing', 3, 0, false], ['images.info', 0, 0, true], ['vision.objects', 1990, 15.92, true],
    ]);
    assert.equal(bill.lines[2]!.failedCalls, 10);
    assert.equal(bill.total, 15.92);
  });

  it('the default table prices every metered action except analyze (billed per feature)', () => {
    for (const a of ['images.process', 'images.info', 'vision.objects', 'vision.labels', 'vision.moderation', 'faces.detect', 'images.segment', 'images.upscale']) {
      assert.ok(defaultPrices.actions[a], a);
    }
    assert.equal(defaultPrices.actions['vision.analyze'], undefined);
    assert.deepEqual(validatePrices(defaultPrices, 'defaults'), defaultPrices);
  });
});

describe('price file', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'imgsense-prices-'));
  const write = (name: string, body: unknown) => {
    const file = path.join(dir, name);
    writeFileSync(file, typeof body === 'string' ? body : JSON.stringify(body));
    return file;
  };

  it('replaces the actions it names, keeps the others, sets the currency', () => {
    const file = write('ok.json', { currency: 'EUR', actions: { 'vision.objects': { freePerMonth: 0, mode: 'progressive', tiers: [{ upTo: 10, pricePerThousand: 3 }, { pricePerThousand: 1 }] }, 'my.action': { tiers: [{ pricePerThousand: 1 }] } } });
    const table = loadPrices(file);
    assert.equal(table.currency, 'EUR');
    assert.deepEqual(table.actions['vision.objects'], { unit: 'call', freePerMonth: 0, mode: 'progressive', tiers: [{ upTo: 10, pricePerThousand: 3 }, { pricePerThousand: 1 }] });
    assert.deepEqual(table.actions['my.action'], { unit: 'call', freePerMonth: 0, mode: 'whole', tiers: [{ pricePerThousand: 1 }] });
    assert.deepEqual(table.actions['images.info'], defaultPrices.actions['images.info']);
    assert.equal(loadPrices(''), defaultPrices);
  });

  it('a bad file stops the start, naming the file and the path in it', () => {
    const cases: [unknown, RegExp][] = [
      ['{ not json', /Expected valid JSON in .*bad0\.json \(IMGSENSE_PRICES_FILE\)/],
      [[1], /for the top level in .*bad1\.json/],
      [{ actions: { 'vision.objects': { tiers: [{ upTo: 10, pricePerThousand: -1 }, { pricePerThousand: 1 }] } } }, /Expected a number of at least 0 for \$\.actions\["vision\.objects"\]\.tiers\[0\]\.pricePerThousand in .*bad2\.json .* but received -1/],
      [{ actions: { 'vision.objects': { tiers: [{ upTo: 10, pricePerThousand: 1 }, { upTo: 5, pricePerThousand: 1 }, { pricePerThousand: 1 }] } } }, /greater than 10 \(tiers ascend\) for \$\.actions\["vision\.objects"\]\.tiers\[1\]\.upTo/],
      [{ actions: { 'vision.objects': { tiers: [{ upTo: 10, pricePerThousand: 1 }] } } }, /no upTo on the last tier .* for \$\.actions\["vision\.objects"\]\.tiers\[0\]\.upTo/],
      [{ actions: { 'vision.objects': { mode: 'flat', tiers: [{ pricePerThousand: 1 }] } } }, /Expected one of whole, progressive for \$\.actions\["vision\.objects"\]\.mode .* but received "flat"/],
      [{ actions: { 'vision.objects': { tiers: [] } } }, /non-empty array .* for \$\.actions\["vision\.objects"\]\.tiers/],
      [{ actions: { 'vision.objects': { tiers: [{ pricePerThousand: 1 }], price: 3 } } }, /for \$\.actions\["vision\.objects"\]\.price /],
      [{ currency: 'euro', actions: {} }, /three-letter currency code .* for \$\.currency/],
      [{ actions: { 'Bad Name': { tiers: [{ pricePerThousand: 1 }] } } }, /an action name such as vision\.objects for \$\.actions\["Bad Name"\]/],
    ];
    cases.forEach(([body, message], i) => {
      const file = write(`bad${i}.json`, body);
      assert.throws(() => loadPrices(file), (err: unknown) => err instanceof ConfigError && message.test(err.message), `${i}: ${JSON.stringify(body)}`);
    });
    assert.throws(() => loadPrices(path.join(dir, 'missing.json')), /Expected a readable JSON file for IMGSENSE_PRICES_FILE but could not read .*missing\.json/);
  });
});
