import assert from 'node:assert/strict';
import * as ort from 'onnxruntime-node';
import sharp from 'sharp';
import { convertGraphModel, type ConvertedModel } from '../../src/inference/convert/graph/convert.js';
import { builtinModels } from '../../src/inference/registry.js';
import type { GraphModelJson } from '../../src/inference/convert/graph/tf-types.js';
import { fixture } from './fixtures.js';
import { loadTfGraph, readHumanModel, relativeL2, runTfGraph } from './tfjs-reference.js';

/**
 * A real photo from the fixtures, resized to the model's input, scaled to 0..1 (or 0..255): the input both
 * runtimes see. Noise alone would not show a wrong channel order or a mirrored layout.
 */
export async function photoInput(path: string, shape: readonly (number | null)[], opts: { scale?: number; nchw?: boolean } = {}): Promise<{ data: Float32Array; shape: number[] }> {
  const nchw = opts.nchw ?? false;
  const [h, w, c] = nchw ? [shape[2] ?? 256, shape[3] ?? 256, shape[1] ?? 3] : [shape[1] ?? 256, shape[2] ?? 256, shape[3] ?? 3];
  const raw = await sharp(fixture(path)).resize(w, h, { fit: 'fill' }).toColourspace(c === 1 ? 'b-w' : 'srgb').removeAlpha().raw().toBuffer();
  const scale = opts.scale ?? 1 / 255;
  const hwc = Float32Array.from(raw, (v) => v * scale);
  if (!nchw) return { data: hwc, shape: [1, h, w, c] };
  const chw = new Float32Array(hwc.length);
  for (let i = 0; i < h * w; i++) for (let k = 0; k < c; k++) chw[k * h * w + i] = hwc[i * c + k]!;
  return { data: chw, shape: [1, c, h, w] };
}

export interface ExactnessResult { converted: ConvertedModel; errors: Record<string, number> }

/**
 * Converts a human-models graph model (in the input layout the registry serves it with, if it has an entry),
 * runs it on onnxruntime and TF.js wasm, returns relative L2 per output.
 */
export async function compareHumanModel(id: string, imagePath: string, opts: { scale?: number } = {}): Promise<ExactnessResult> {
  const { json, weights } = readHumanModel(id);
  const converted = convertGraphModel(json, weights, id, { inputLayout: builtinModels.find((m) => m.id === id)?.input.layout });
  const input = converted.inputs[0]!;
  // TF.js's own layout: NHWC where the converted graph took it over as NCHW.
  const tfShape = input.fromNhwc ? [input.shape[0]!, input.shape[2]!, input.shape[3]!, input.shape[1]!] : input.shape;
  const nchw = tfShape.length === 4 && tfShape[1] === 3 && tfShape[3] !== 3;
  const x = await photoInput(imagePath, tfShape, { ...opts, nchw });
  const session = await ort.InferenceSession.create(converted.onnx);
  const ourX = input.fromNhwc ? await photoInput(imagePath, input.shape, { ...opts, nchw: true }) : x;
  const ours = await session.run({ [session.inputNames[0]!]: new ort.Tensor('float32', ourX.data, ourX.shape) });
  const reference = await runTfGraph(await loadTfGraph(json, weights), x.data, x.shape);
  const errors: Record<string, number> = {};
  for (const [name, ref] of reference) {
    const got = ours[name];
    assert.ok(got, `${id}: output ${name} missing from the ONNX model (has ${session.outputNames.join(', ')})`);
    assert.deepEqual([...got.dims], ref.shape, `${id}: output ${name} shape`);
    errors[name] = relativeL2(got.data as Float32Array, ref.data);
  }
  await session.release();
  return { converted, errors };
}

export async function assertExact(id: string, imagePath: string, opts: { scale?: number; tolerance?: number } = {}): Promise<void> {
  const { errors } = await compareHumanModel(id, imagePath, opts);
  for (const [name, err] of Object.entries(errors)) {
    assert.ok(err < (opts.tolerance ?? 1e-4), `${id}: output ${name} differs from TF.js by relative L2 ${err}`);
  }
}

export interface TinyGraph { json: GraphModelJson; weights: Uint8Array }
export interface OutputPair { name: string; ours: { dims: number[]; data: ArrayLike<number> }; reference: { shape: number[]; data: Float32Array } }

/**
 * A hand-built graph (input `x`) converted and run on onnxruntime, and `reference` (the same graph unless an
 * equivalent one is given) run on TF.js wasm: every TF.js output paired with ours, shapes already checked.
 */
export async function runTinyGraph(graph: TinyGraph, input: Float32Array, shape: number[], reference: TinyGraph = graph): Promise<OutputPair[]> {
  const converted = convertGraphModel(graph.json, graph.weights, 'tiny');
  const session = await ort.InferenceSession.create(converted.onnx);
  try {
    const ours = await session.run({ x: new ort.Tensor('float32', input, shape) });
    const model = await loadTfGraph(reference.json, reference.weights);
    const expected = await runTfGraph(model, input, shape);
    model.dispose();
    assert.ok(expected.size > 0, 'the reference produced no outputs');
    return [...expected].map(([name, ref]) => {
      const got = ours[name];
      assert.ok(got, `output ${name} missing (has ${session.outputNames.join(', ')})`);
      assert.deepEqual([...got.dims], ref.shape, `output ${name} shape`);
      return { name, ours: { dims: [...got.dims], data: Array.from(got.data as ArrayLike<number | bigint>, Number) }, reference: ref };
    });
  } finally {
    await session.release();
  }
}
