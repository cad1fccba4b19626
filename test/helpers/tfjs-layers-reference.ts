/**
 * TF.js layers models (Keras topology) on the wasm backend: the reference the layers converter is checked
 * against. Tests only.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { LayersModelJson } from '../../src/inference/convert/layers/types.js';
import { tfReady } from './tfjs-reference.js';

const require = createRequire(import.meta.url);

export type EsrganSize = 'slim' | 'medium' | 'thick';

/** An esrgan model.json and its shards concatenated in manifest order. */
export function readEsrganModel(size: EsrganSize, scale: number): { json: LayersModelJson; weights: Uint8Array } {
  // The package's exports map hides its models folder: find the root from the resolved entry point.
  const entry = require.resolve(`@upscalerjs/esrgan-${size}`);
  const file = path.join(entry.slice(0, entry.lastIndexOf(`${path.sep}dist${path.sep}`)), 'models', `x${scale}`, 'model.json');
  const json = JSON.parse(readFileSync(file, 'utf8')) as LayersModelJson;
  const parts = json.weightsManifest.flatMap((g) => g.paths.map((p) => readFileSync(path.join(path.dirname(file), p))));
  return { json, weights: Buffer.concat(parts) };
}

/**
 * What @upscalerjs/esrgan-* says about a model: its custom layers' setup (thick only) and the value range
 * its input expects ([0, 255] for the RDN sizes, [0, 1] for RRDN/thick).
 */
interface EsrganDefinition {
  setup?: (tf: unknown) => void;
  inputRange: [number, number];
}

export function esrganDefinition(size: EsrganSize, scale: number): EsrganDefinition {
  return require(`@upscalerjs/esrgan-${size}/${scale}x`) as EsrganDefinition;
}

/**
 * Registers the package's own MultiplyBeta and PixelShuffle{scale}x classes with TF.js by running its
 * setup() against the TF.js modules this test loads (not a copy of their semantics).
 */
export function registerEsrganLayers(size: EsrganSize, scale: number): void {
  esrganDefinition(size, scale).setup?.({ layers: tfl.layers, mul: tf.mul, depthToSpace: tf.depthToSpace, serialization: tf.serialization });
}

export async function loadTfLayers(json: LayersModelJson, weights: Uint8Array): Promise<tfl.LayersModel> {
  await tfReady();
  const weightData = weights.buffer.slice(weights.byteOffset, weights.byteOffset + weights.byteLength) as ArrayBuffer;
  return tfl.loadLayersModel({
    load: async () => ({
      modelTopology: json.modelTopology as never,
      weightSpecs: json.weightsManifest.flatMap((g) => g.weights) as never,
      weightData,
      ...(json.format && { format: json.format }),
    }),
  });
}

/** Runs the model on one input and returns its (first) output. */
export function runTfLayers(model: tfl.LayersModel, input: Float32Array, shape: number[]): { data: Float32Array; shape: number[] } {
  const x = tf.tensor(input, shape);
  const out = model.predict(x);
  const list = Array.isArray(out) ? out : [out];
  const result = { data: Float32Array.from(list[0]!.dataSync() as ArrayLike<number>), shape: list[0]!.shape };
  tf.dispose([x, ...list]);
  return result;
}

/** A model built in the test, serialised the way tfjs-layers saves it (topology at the top, no model_config). */
export async function saveTfLayers(model: tfl.LayersModel): Promise<{ json: LayersModelJson; weights: Uint8Array }> {
  let saved: tf.io.ModelArtifacts | undefined;
  await model.save(tf.io.withSaveHandler(async (artifacts) => {
    saved = artifacts;
    return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
  }));
  const weightData = saved!.weightData;
  if (!(weightData instanceof ArrayBuffer)) throw new Error('expected the weights in one buffer');
  return {
    json: { format: 'layers-model', modelTopology: saved!.modelTopology as never, weightsManifest: [{ paths: [], weights: saved!.weightSpecs as never }] },
    weights: new Uint8Array(weightData),
  };
}

export { tf, tfl };
