import path from 'node:path';
import { convertEntry } from './convert/index.js';
import { ModelStore, type PreparedModel } from './model-store.js';
import { builtinModels, type ModelEntry } from './registry.js';

import { loadCustomModels } from './custom-models.js';

export { InferenceRuntime, type TensorData, type RuntimeOptions } from './runtime.js';
export { ModelStore } from './model-store.js';
export { CustomModelError } from './custom-models.js';

/** The built-in models plus the operator's own from <data dir>/models/custom. */
export function allModels(dataDir: string): ModelEntry[] {
  return [...builtinModels, ...loadCustomModels(dataDir, builtinModels.map((m) => m.id))];
}

export function createModelStore(dataDir: string): ModelStore {
  return new ModelStore(dataDir, convertEntry);
}

export interface ModelListing {
  id: string;
  task: string;
  description: string;
  source: { package: string; file: string; format: string };
  onnx: string | null;
  sha256: string | null;
  inputs: PreparedModel['inputs'] | ModelEntry['input'];
  outputs: string[] | Record<string, string>;
  licence: string;
  upstream: string;
}

/** What `imgsense models list --json` prints: the manifest, plus the converted file once it exists. */
export function listModels(dataDir: string, models: readonly ModelEntry[] = allModels(dataDir)): ModelListing[] {
  const store = createModelStore(dataDir);
  return models.map((m) => {
    let prepared: PreparedModel | undefined;
    try {
      prepared = store.find(m);
    } catch {
      prepared = undefined;
    }
    return {
      id: m.id,
      task: m.task,
      description: m.description,
      source: { package: m.source.package, file: m.source.files[0]!, format: m.source.format },
      onnx: prepared?.onnx ?? null,
      sha256: prepared?.sha256 ?? null,
      inputs: prepared?.inputs ?? m.input,
      outputs: prepared?.outputs ?? m.outputs,
      licence: m.licence,
      upstream: m.upstream,
    };
  });
}

export async function* prepareModels(dataDir: string, ids: readonly string[] = [], models: readonly ModelEntry[] = allModels(dataDir)): AsyncGenerator<{ id: string; onnx?: string; seconds: number; error?: string }> {
  const store = createModelStore(dataDir);
  for (const id of ids.filter((i) => !models.some((m) => m.id === i))) {
    yield { id, seconds: 0, error: `unknown model; expected one of ${models.map((m) => m.id).join(', ')}` };
  }
  for (const m of models.filter((x) => ids.length === 0 || ids.includes(x.id))) {
    const t0 = performance.now();
    try {
      const p = store.prepare(m);
      yield { id: m.id, onnx: path.relative(process.cwd(), p.onnx), seconds: (performance.now() - t0) / 1000 };
    } catch (err) {
      yield { id: m.id, seconds: (performance.now() - t0) / 1000, error: err instanceof Error ? err.message : String(err) };
    }
  }
}
