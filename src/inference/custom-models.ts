import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import type { InputSpec, ModelEntry, Task } from './registry.js';

const tasks: Task[] = ['face-detection', 'face-landmarks', 'face-descriptor', 'face-attribute', 'face-antispoof', 'object-detection', 'segmentation', 'moderation', 'super-resolution', 'classification'];

export class CustomModelError extends Error {
  override name = 'CustomModelError';
}

function expect(cond: unknown, file: string, what: string, got: unknown): asserts cond {
  if (!cond) throw new CustomModelError(`${file}: expected ${what} but received ${JSON.stringify(got)}`);
}

function inputSpec(raw: any, file: string): InputSpec {
  expect(raw && typeof raw === 'object', file, 'an input object', raw);
  const size = raw.size ?? null;
  expect(size === null || (Array.isArray(size) && size.length === 2 && size.every((n: unknown) => Number.isInteger(n) && (n as number) > 0)), file, 'input.size [height, width] or null', size);
  expect(raw.layout === 'nhwc' || raw.layout === 'nchw', file, 'input.layout nhwc or nchw', raw.layout);
  expect(raw.channels === 1 || raw.channels === 3, file, 'input.channels 1 or 3', raw.channels);
  const range = raw.range ?? [0, 1];
  expect(Array.isArray(range) && range.length === 2 && range.every((n: unknown) => typeof n === 'number'), file, 'input.range [min, max]', range);
  const batch = raw.batch ?? 'fixed';
  expect(batch === 'fixed' || batch === 'dynamic', file, 'input.batch fixed or dynamic', batch);
  return { size, layout: raw.layout, channels: raw.channels, range: range as [number, number], batch };
}

/**
 * Operator models: `<data dir>/models/custom/<name>.json` next to the .onnx file it names, in the registry's
 * own entry format (id, task, file, licence, input, outputs, labels). A broken manifest stops the server at
 * start with the file and field named, rather than failing the first request.
 */
export function loadCustomModels(dataDir: string, reserved: readonly string[] = []): ModelEntry[] {
  const dir = path.join(dataDir, 'models', 'custom');
  if (!existsSync(dir)) return [];
  const entries: ModelEntry[] = [];
  for (const name of readdirSync(dir).filter((f) => f.endsWith('.json')).sort()) {
    const file = path.join(dir, name);
    let raw: any;
    try {
      raw = JSON.parse(readFileSync(file, 'utf8'));
    } catch (err) {
      throw new CustomModelError(`${file}: not valid JSON (${(err as Error).message})`);
    }
    expect(typeof raw.id === 'string' && /^[a-z0-9][a-z0-9._-]{0,63}$/.test(raw.id), file, 'id of lower-case letters, digits, . _ -', raw.id);
    expect(!reserved.includes(raw.id) && !entries.some((e) => e.id === raw.id), file, 'an id no other model uses', raw.id);
    expect(tasks.includes(raw.task), file, `task one of ${tasks.join(', ')}`, raw.task);
    expect(typeof raw.file === 'string' && raw.file.endsWith('.onnx') && !raw.file.includes('/') && !raw.file.includes('\\'), file, 'file: the name of an .onnx file in the same folder', raw.file);
    const onnx = path.join(dir, raw.file);
    expect(existsSync(onnx), file, `${raw.file} to exist in ${dir}`, raw.file);
    expect(typeof raw.licence === 'string' && raw.licence.length > 0, file, 'a licence', raw.licence);
    expect(raw.labels === undefined || (Array.isArray(raw.labels) && raw.labels.every((l: unknown) => typeof l === 'string')), file, 'labels: an array of strings', raw.labels);
    entries.push({
      id: raw.id,
      task: raw.task,
      description: typeof raw.description === 'string' ? raw.description : `operator model ${raw.id}`,
      source: { package: '', format: 'onnx', files: [onnx] },
      upstream: typeof raw.upstream === 'string' ? raw.upstream : 'supplied by the operator',
      licence: raw.licence,
      input: inputSpec(raw.input, file),
      outputs: raw.outputs && typeof raw.outputs === 'object' ? raw.outputs : {},
      ...(raw.labels && { labels: raw.labels }),
    });
  }
  return entries;
}
