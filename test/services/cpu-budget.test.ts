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
