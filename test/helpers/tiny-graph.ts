import assert from 'node:assert/strict';
import { convertGraphModel } from '../../src/inference/convert/graph/convert.js';
import type { GraphModelJson, TfAttr, TfNode } from '../../src/inference/convert/graph/tf-types.js';
import { readOnnx } from '../../src/inference/convert/onnx/read.js';
import { runTinyGraph } from './exactness.js';
import { relativeL2 } from './tfjs-reference.js';

/** Hand-built TF.js graph models for the converter's rewrite tests: a placeholder, constants and the nodes given. */

export type Graph = { json: GraphModelJson; weights: Uint8Array };
export const dims = (shape: number[]) => ({ dim: shape.map((d) => ({ size: String(d) })) });
export const T = { T: { type: 'DT_FLOAT' } };
export const s = (v: string): TfAttr => ({ s: Buffer.from(v).toString('base64') });
export const list = (v: number[]): TfAttr => ({ list: { i: v.map(String) } });

export function ramp(n: number, seed: number): Float32Array {
  let r = seed >>> 0;
  return Float32Array.from({ length: n }, () => {
    r = (Math.imul(r, 1664525) + 1013904223) >>> 0;
    return (r / 2 ** 32) * 2 - 1;
  });
}

export function graph(inputShape: number[], consts: Record<string, { data: Float32Array | Int32Array; shape: number[] }>, nodes: TfNode[]): Graph {
  const constNodes: TfNode[] = Object.entries(consts).map(([name, t]) => {
    const type = t.data instanceof Float32Array ? 'DT_FLOAT' : 'DT_INT32';
    return { name, op: 'Const', attr: { dtype: { type }, value: { tensor: { dtype: type, tensorShape: dims(t.shape) } } } };
  });
  const x: TfNode = { name: 'x', op: 'Placeholder', attr: { dtype: { type: 'DT_FLOAT' }, shape: { shape: dims(inputShape) } } };
  const weights = Object.entries(consts).map(([name, t]) => ({ name, shape: t.shape, dtype: (t.data instanceof Float32Array ? 'float32' : 'int32') as 'float32' | 'int32' }));
  const bytes = Buffer.concat(Object.values(consts).map((t) => Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength)));
  return {
    json: { format: 'graph-model', modelTopology: { node: [x, ...constNodes, ...nodes], versions: { producer: 1395 } }, weightsManifest: [{ paths: [], weights }] },
    weights: new Uint8Array(bytes),
  };
}

export const conv = (name: string, input: string, w: string, o: { stride?: number; padding?: string } = {}): TfNode => ({
  name, op: 'Conv2D', input: [input, w],
  attr: { ...T, strides: list([1, o.stride ?? 1, o.stride ?? 1, 1]), padding: s(o.padding ?? 'SAME'), data_format: s('NHWC'), dilations: list([1, 1, 1, 1]) },
});

/** The op types of the graph once converted (what a rewrite must have removed or added). */
export const ops = (g: Graph): string[] => readOnnx(convertGraphModel(g.json, g.weights, 'tiny').onnx).nodes.map((n) => n.opType);

/** Every output of the converted graph within `tolerance` relative L2 of TF.js's, on a ramp input of `shape`. */
export async function assertMatches(g: Graph, shape: number[], tolerance: number): Promise<void> {
  const x = ramp(shape.reduce((a, b) => a * b, 1), 5);
  for (const p of await runTinyGraph(g, x, shape)) {
    const err = relativeL2(Float32Array.from(p.ours.data), p.reference.data);
    assert.ok(err <= tolerance, `${p.name}: relative L2 ${err}`);
  }
}
