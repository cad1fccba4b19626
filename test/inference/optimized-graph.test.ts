import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { convertEntry } from '../../src/inference/convert/index.js';
import { readOnnx, type OnnxSummary } from '../../src/inference/convert/onnx/read.js';
import { builtinModels } from '../../src/inference/registry.js';

const convOps = new Set(['Conv', 'FusedConv', 'ConvTranspose']);

/** Transposes that sit on a path from one convolution to another: the layout churn the converter must not leave. */
function transposesBetweenConvs(g: OnnxSummary): number {
  const producer = new Map<string, OnnxSummary['nodes'][number]>();
  const consumers = new Map<string, OnnxSummary['nodes'][number][]>();
  for (const n of g.nodes) {
    for (const o of n.outputs) producer.set(o, n);
    for (const i of n.inputs) consumers.set(i, [...(consumers.get(i) ?? []), n]);
  }
  const reaches = (start: string[], next: (name: string) => OnnxSummary['nodes'][number][], edges: (n: OnnxSummary['nodes'][number]) => string[]) => {
    const seen = new Set<string>();
    const stack = [...start];
    while (stack.length) {
      const name = stack.pop()!;
      if (seen.has(name)) continue;
      seen.add(name);
      for (const n of next(name)) {
        if (convOps.has(n.opType)) return true;
        stack.push(...edges(n));
      }
    }
    return false;
  };
  return g.nodes.filter((t) => t.opType === 'Transpose'
    && reaches([t.inputs[0]!], (name) => (producer.get(name) ? [producer.get(name)!] : []), (n) => n.inputs.filter((i) => !g.initializers.has(i)))
    && reaches(t.outputs, (name) => consumers.get(name) ?? [], (n) => n.outputs)).length;
}

/** The model as converted and as onnxruntime optimises it at `level`. */
async function optimised(id: string, level: 'extended' | 'all'): Promise<{ before: OnnxSummary; after: OnnxSummary }> {
  const converted = convertEntry(builtinModels.find((m) => m.id === id)!);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'imgsense-opt-'));
  try {
    const out = path.join(dir, 'optimised.onnx');
    const s = await ort.InferenceSession.create(converted.onnx, { graphOptimizationLevel: level, optimizedModelFilePath: out, logSeverityLevel: 3 });
    await s.release();
    return { before: readOnnx(converted.onnx), after: readOnnx(readFileSync(out)) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

for (const id of ['emotion', 'blazeface', 'faceres', 'centernet', 'selfie', 'nsfw-mobilenet-v2', 'esrgan-slim-x2', 'esrgan-thick-x2']) {
  test(`${id}: onnxruntime's optimised graph keeps no transpose between convolutions`, async () => {
    // "extended" is the last level that writes a portable model (the NCHWc rewrite comes after it).
    const { before, after } = await optimised(id, 'extended');
    // The check does find them where they are: in the graph as converted, before onnxruntime cancels them.
    assert.ok(transposesBetweenConvs(before) > 2, 'the converted graph wraps convolutions in transposes');
    assert.ok(after.nodes.some((n) => convOps.has(n.opType)), 'the optimised graph still has its convolutions');
    assert.equal(transposesBetweenConvs(after), 0);
  });
}

// On x86 onnxruntime runs convolutions in a blocked layout (NCHWc) and reorders tensors in and out of it around
// every op it cannot run blocked. The converter's rewrites (src/inference/convert/rewrites.ts) exist to keep these
// networks inside it; before them the optimised graphs held 71, 69, 109, 84, 55 and 55 Reorder nodes.
const maxReorders: [id: string, max: number][] = [['blazeface', 4], ['facemesh', 3], ['iris', 2], ['centernet', 4], ['selfie', 8], ['meet', 13], ['gender', 2]];
for (const [id, max] of maxReorders) {
  test(`${id}: onnxruntime's optimised graph stays in the blocked NCHWc layout`, async (t) => {
    const { after } = await optimised(id, 'all');
    const nchwc = after.nodes.filter((n) => n.domain === 'com.microsoft.nchwc');
    if (nchwc.length === 0) return t.skip('this CPU has no NCHWc kernels (not x86)');
    const reorders = nchwc.filter((n) => n.opType === 'ReorderInput' || n.opType === 'ReorderOutput').length;
    assert.ok(reorders <= max, `${reorders} Reorder nodes (at most ${max} expected)`);
    assert.deepEqual(after.nodes.filter((n) => ['PRelu', 'Pad'].includes(n.opType) || (n.opType === 'Conv' && !n.domain)).map((n) => n.opType), [], 'every convolution blocked, no PRelu or Pad left');
  });
}
