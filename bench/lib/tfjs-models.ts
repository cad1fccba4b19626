/**
 * The reference side: the registry's models on TF.js with the wasm backend, loaded from memory the way
 * test/helpers/tfjs-reference.ts does (graph models), plus layers models (ESRGAN, with UpscalerJS's custom
 * MultiplyBeta / PixelShuffleNx layers re-declared here) and nsfwjs's JS bundles. Benchmarks only.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-wasm';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { loadGraphModel, type GraphModel } from '@tensorflow/tfjs-converter';
import { layers, loadLayersModel, type LayersModel } from '@tensorflow/tfjs-layers';
import { createRequire } from 'node:module';
import path from 'node:path';
import { readTfjsModel } from '../../src/inference/convert/sources.js';
import type { SourceFormat } from '../../src/inference/registry.js';

const require = createRequire(import.meta.url);

export async function tfReady(): Promise<Record<string, unknown>> {
  setWasmPaths(require.resolve('@tensorflow/tfjs-backend-wasm').replace(/dist\/.*$/, 'dist/'));
  await tf.setBackend('wasm');
  await tf.ready();
  const env: Record<string, unknown> = { backend: tf.getBackend(), version: tf.version_core };
  for (const flag of ['WASM_HAS_SIMD_SUPPORT', 'WASM_HAS_MULTITHREAD_SUPPORT']) {
    try {
      env[flag] = await tf.env().getAsync(flag);
    } catch {
      env[flag] = 'unknown';
    }
  }
  return env;
}

// UpscalerJS registers these when its ESRGAN-thick model definition is set up (packages/shared/src/esrgan).
const inputOf = (inputs: tf.Tensor | tf.Tensor[]): tf.Tensor => (Array.isArray(inputs) ? inputs[0]! : inputs);

class MultiplyBeta extends layers.Layer {
  static className = 'MultiplyBeta';
  private readonly beta: number;
  constructor(config: { beta?: number; name?: string; trainable?: boolean; dtype?: tf.DataType }) {
    super({ name: config.name, trainable: config.trainable, dtype: config.dtype });
    this.beta = config.beta ?? 0.2;
  }
  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.mul(inputOf(inputs), this.beta);
  }
  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), beta: this.beta };
  }
}

function pixelShuffle(scale: number): tf.serialization.SerializableConstructor<tf.serialization.Serializable> {
  return class PixelShuffle extends layers.Layer {
    static className = `PixelShuffle${scale}x`;
    constructor(config: { name?: string; trainable?: boolean; dtype?: tf.DataType }) {
      super({ name: config.name, trainable: config.trainable, dtype: config.dtype });
    }
    override computeOutputShape(shape: (number | null)[]): (number | null)[] {
      const up = (d: number | null | undefined) => (d == null ? null : d * scale);
      return [shape[0] ?? null, up(shape[1]), up(shape[2]), 3];
    }
    override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
      return tf.depthToSpace(inputOf(inputs) as tf.Tensor4D, scale, 'NHWC');
    }
  } as unknown as tf.serialization.SerializableConstructor<tf.serialization.Serializable>;
}

let registered = false;
function registerUpscalerLayers(): void {
  if (registered) return;
  registered = true;
  tf.serialization.registerClass(MultiplyBeta as unknown as tf.serialization.SerializableConstructor<tf.serialization.Serializable>);
  for (const scale of [2, 3, 4, 8]) tf.serialization.registerClass(pixelShuffle(scale));
}

function arrayBuffer(bytes: Uint8Array): ArrayBuffer {
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
}

function artifacts(json: any, weights: Uint8Array): tf.io.ModelArtifacts {
  return {
    modelTopology: json.modelTopology,
    weightSpecs: json.weightsManifest.flatMap((g: { weights: unknown[] }) => g.weights),
    weightData: arrayBuffer(weights),
    format: json.format,
    generatedBy: json.generatedBy,
    convertedBy: json.convertedBy,
    ...(json.signature && { signature: json.signature }),
    ...(json.userDefinedMetadata && { userDefinedMetadata: json.userDefinedMetadata }),
  };
}

export interface TfModel {
  kind: 'graph' | 'layers';
  /** Runs the model on x and downloads every output (so the timing includes reading the results). */
  run(x: tf.Tensor): Promise<{ name: string; dims: number[]; data: Float32Array }[]>;
}

function isGraphJson(json: any): boolean {
  return json.format === 'graph-model' || Array.isArray(json.modelTopology?.node);
}

async function download(outs: tf.Tensor[], names: string[]) {
  const result = [];
  for (let i = 0; i < outs.length; i++) {
    const t = outs[i]!;
    const data = await t.data();
    result.push({ name: names[i] ?? `output_${i}`, dims: [...t.shape], data: data instanceof Float32Array ? data : Float32Array.from(data as ArrayLike<number>) });
    t.dispose();
  }
  return result;
}

export async function loadTfModel(format: SourceFormat, file: string): Promise<TfModel> {
  let json: any;
  let weights: Uint8Array;
  if (format === 'nsfwjs-bundle') {
    const { readNsfwjsModel } = await import('../../src/inference/convert/nsfwjs-bundle.js');
    ({ json, weights } = readNsfwjsModel(path.basename(file) as Parameters<typeof readNsfwjsModel>[0]));
  } else {
    ({ json, weights } = readTfjsModel(file));
  }
  if (isGraphJson(json)) {
    const model: GraphModel = await loadGraphModel({ load: async () => artifacts(json, weights) });
    const names = model.outputs.map((o) => o.name);
    let useAsync = false;
    return {
      kind: 'graph',
      async run(x) {
        let out: tf.Tensor | tf.Tensor[];
        if (!useAsync) {
          try {
            out = model.execute(x, names);
          } catch (err) {
            if (!/executeAsync/.test(String(err))) throw err;
            useAsync = true;
            out = await model.executeAsync(x, names);
          }
        } else {
          out = await model.executeAsync(x, names);
        }
        return download(Array.isArray(out) ? out : [out], names.map((n) => n.replace(/:0$/, '')));
      },
    };
  }
  registerUpscalerLayers();
  const model: LayersModel = await loadLayersModel({ load: async () => artifacts(json, weights) });
  return {
    kind: 'layers',
    async run(x) {
      const out = model.predict(x, { batchSize: x.shape[0] }) as tf.Tensor | tf.Tensor[];
      return download(Array.isArray(out) ? out : [out], model.outputNames);
    },
  };
}

export { tf };
