import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { ConvertError } from './ir.js';
import type { ModelEntry } from '../registry.js';

const require = createRequire(import.meta.url);

/** The installed folder of an npm package, even when its "exports" hide package.json. */
export function packageDir(name: string): string {
  try {
    return path.dirname(require.resolve(`${name}/package.json`));
  } catch {
    for (const base of require.resolve.paths(name) ?? []) {
      const dir = path.join(base, name);
      if (existsSync(path.join(dir, 'package.json'))) return dir;
    }
  }
  throw new ConvertError(`package ${name} is not installed: run npm ci (models ship inside npm packages; nothing is downloaded)`);
}

/** Every file the model is made of, in a stable order: model.json and its weight shards, or a bundle folder. */
export function sourceFiles(entry: ModelEntry): string[] {
  const dir = packageDir(entry.source.package);
  const files: string[] = [];
  for (const rel of entry.source.files) {
    const file = path.join(dir, rel);
    if (!existsSync(file)) throw new ConvertError(`model ${entry.id}: ${entry.source.package}/${rel} is missing`);
    if (statSync(file).isDirectory()) {
      files.push(...readdirSync(file).filter((f) => !f.startsWith('.')).sort().map((f) => path.join(file, f)));
    } else if (file.endsWith('.json')) {
      files.push(file);
      const json = JSON.parse(readFileSync(file, 'utf8')) as { weightsManifest?: { paths: string[] }[] };
      for (const group of json.weightsManifest ?? []) for (const p of group.paths) files.push(path.join(path.dirname(file), p));
    } else {
      files.push(file);
    }
  }
  return files;
}

/** sha256 over the source files' names and bytes: the cache key of the converted model. */
/**
 * Bumped whenever the converter writes a different graph for the same sources (a new rewrite), so that cached
 * conversions made by an older converter are redone rather than served.
 */
export const converterVersion = 7;

/**
 * The cache key of a conversion: the source files, the converter's version and the entry's settings that shape the
 * converted graph (its input layout, the outputs it keeps), so that editing either in the registry converts again.
 */
export function conversionHash(entry: ModelEntry): string {
  return hashSources(sourceFiles(entry), JSON.stringify({ layout: entry.input.layout, outputs: entry.fetch ?? null }));
}

export function hashSources(files: readonly string[], settings = ''): string {
  const h = createHash('sha256');
  h.update(`imgsense-convert/${converterVersion}`);
  h.update(settings);
  for (const f of files) {
    h.update(path.basename(f));
    h.update(readFileSync(f));
  }
  return h.digest('hex');
}

/** model.json plus its shards concatenated, as tfjs io handlers present them. */
export function readTfjsModel(modelJson: string): { json: any; weights: Uint8Array } {
  const json = JSON.parse(readFileSync(modelJson, 'utf8'));
  const parts = (json.weightsManifest as { paths: string[] }[]).flatMap((g) => g.paths.map((p) => readFileSync(path.join(path.dirname(modelJson), p))));
  return { json, weights: Buffer.concat(parts) };
}
