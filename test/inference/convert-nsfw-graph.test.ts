import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as ort from 'onnxruntime-node';
import { convertGraphModel } from '../../src/inference/convert/graph/convert.js';
import { readNsfwjsModel } from '../../src/inference/convert/nsfwjs-bundle.js';
import { photoInput } from '../helpers/exactness.js';
import { loadTfGraph, relativeL2, runTfGraph } from '../helpers/tfjs-reference.js';

// nsfwjs's mobilenet_v2_mid is a graph model inside a JS bundle: the same converter path as the human models.
test('nsfwjs mobilenet_v2_mid: ONNX conversion matches TF.js within 1e-4 relative L2 on two photos', async () => {
  const { json, weights } = readNsfwjsModel('mobilenet_v2_mid');
  const converted = convertGraphModel(json, weights, 'nsfw-mobilenet-v2-mid');
  const session = await ort.InferenceSession.create(converted.onnx);
  const reference = await loadTfGraph(json, weights);
  for (const photo of ['objects/giraffe.jpg', 'faces/groups/bbt2.jpg']) {
    const x = await photoInput(photo, [1, 224, 224, 3], { scale: 1 / 255 });
    const ours = await session.run({ [session.inputNames[0]!]: new ort.Tensor('float32', x.data, x.shape) });
    const ref = await runTfGraph(reference, x.data, x.shape);
    assert.equal(ref.size, 1);
    for (const [name, r] of ref) {
      const got = ours[name];
      assert.ok(got, `output ${name} missing`);
      assert.deepEqual([...got.dims], r.shape);
      const err = relativeL2(got.data as Float32Array, r.data);
      assert.ok(err < 1e-4, `${photo}: relative L2 ${err}`);
    }
  }
  await session.release();
});
