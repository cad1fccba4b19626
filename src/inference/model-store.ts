import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { readOnnx } from './convert/onnx/read.js';
import { conversionHash } from './convert/sources.js';
import type { ConvertedModel } from './convert/graph/convert.js';
import type { ModelEntry } from './registry.js';

export interface PreparedModel {
  id: string;
  onnx: string;
  /** sha256 of the .onnx file. */
  sha256: string;
  /** sha256 of the source files the .onnx was made from: the cache key. */
  sourceHash: string;
  inputs: ConvertedModel['inputs'];
  outputs: string[];
}

export type Converter = (entry: ModelEntry) => ConvertedModel;

/**
 * Converted models on disk under <data dir>/models, keyed by a hash of their source files: a package upgrade
 * converts again, a restart does not. Writes are atomic (temp file + rename), so a crash mid-write leaves no
 * half model behind.
 */
export class ModelStore {
  readonly dir: string;

  constructor(dataDir: string, private readonly convert: Converter) {
    this.dir = path.join(dataDir, 'models');
  }

  private paths(entry: ModelEntry, sourceHash: string) {
    const base = path.join(this.dir, `${entry.id}.${sourceHash.slice(0, 16)}`);
    return { onnx: `${base}.onnx`, meta: `${base}.json` };
  }

  /** The prepared model if its conversion is cached for the installed sources; never converts. */
  find(entry: ModelEntry): PreparedModel | undefined {
    if (entry.source.format === 'onnx') return this.prepare(entry);
    const sourceHash = conversionHash(entry);
    const p = this.paths(entry, sourceHash);
    if (!existsSync(p.meta) || !existsSync(p.onnx)) return undefined;
    return JSON.parse(readFileSync(p.meta, 'utf8')) as PreparedModel;
  }

  /** Converts on first use (or returns the cached conversion). */
  prepare(entry: ModelEntry): PreparedModel {
    if (entry.source.format === 'onnx') {
      const onnx = entry.source.files[0]!;
      const bytes = readFileSync(onnx);
      const sha256 = createHash('sha256').update(bytes).digest('hex');
      const graph = readOnnx(bytes);
      const dtype = 'float32' as const;
      return {
        id: entry.id, onnx, sha256, sourceHash: sha256,
        inputs: graph.inputs.map((i) => ({ name: i.name, dtype, shape: i.shape.map((d) => (typeof d === 'number' && d > 0 ? d : null)) })),
        outputs: graph.outputs.map((o) => o.name),
      };
    }
    const cached = this.find(entry);
    if (cached) return cached;
    const sourceHash = conversionHash(entry);
    const converted = this.convert(entry);
    const p = this.paths(entry, sourceHash);
    mkdirSync(this.dir, { recursive: true });
    const prepared: PreparedModel = {
      id: entry.id,
      onnx: p.onnx,
      sha256: createHash('sha256').update(converted.onnx).digest('hex'),
      sourceHash,
      inputs: converted.inputs,
      outputs: converted.outputs,
    };
    writeAtomic(p.onnx, converted.onnx);
    writeAtomic(p.meta, JSON.stringify(prepared, null, 2));
    return prepared;
  }
}

function writeAtomic(file: string, data: Uint8Array | string): void {
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, data);
  renameSync(tmp, file);
}
