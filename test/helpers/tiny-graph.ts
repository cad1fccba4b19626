import type { GraphModelJson, TfAttr, TfNode } from '../../src/inference/convert/graph/tf-types.js';

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
