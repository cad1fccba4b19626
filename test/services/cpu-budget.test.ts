import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CpuBudget } from '../../src/services/cpu-budget.js';

test('the CPU budget never lets the weights in flight exceed the cores, and serves in arrival order', async () => {
  const budget = new CpuBudget(2);
  let busy = 0;
  let peak = 0;
  const order: string[] = [];
  // A weight above the cores is clamped to the cores (a 5-thread run on 2 cores takes the whole machine).
  const job = (name: string, weight: number) => budget.run(weight, async () => {
    weight = Math.min(weight, 2);
    busy += weight;
    peak = Math.max(peak, busy);
    order.push(name);
    await new Promise((r) => setTimeout(r, 5));
    busy -= weight;
  });
  await Promise.all([job('a', 1), job('b', 2), job('c', 1), job('d', 1), job('e', 5)]);
  assert.equal(peak, 2);
  assert.deepEqual(order, ['a', 'b', 'c', 'd', 'e'], 'b (2 cores) waits for a, and c does not overtake b');
  assert.equal(budget.available, 2);
});

test('image work may overcommit by the slack while no model run holds the budget; model runs never do', async () => {
  const budget = new CpuBudget(2, 1);
  let images = 0;
  let models = 0;
  let peakImages = 0;
  let peakTogether = 0;
  const hold = () => new Promise((r) => setTimeout(r, 5));
  const image = () => budget.run(1, async () => {
    images += 1;
    peakImages = Math.max(peakImages, images);
    peakTogether = Math.max(peakTogether, images + 2 * models);
    await hold();
    images -= 1;
  }, { overcommit: true });
  const model = () => budget.run(2, async () => {
    models += 1;
    peakTogether = Math.max(peakTogether, images + 2 * models);
    await hold();
    models -= 1;
  });
  await Promise.all([image(), image(), image(), image(), image()]);
  assert.equal(peakImages, 3, 'cores + slack images at once');
  peakImages = 0;
  peakTogether = 0;
  await Promise.all([model(), image(), image(), model(), image()]);
  assert.equal(peakTogether, 2, 'with a model run in the mix, threads never exceed the cores');
  assert.equal(budget.available, 2);
});
