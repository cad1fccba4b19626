import type { AttributeValue, NodeSpec, TensorValue } from './proto.js';

/** Helpers for the rewrites that edit the finished node list (see rewrites.ts) and its initializers. */

export function ints(a: AttributeValue | undefined): readonly number[] | undefined {
  return a?.kind === 'ints' ? a.value : undefined;
}

export function int(a: AttributeValue | undefined): number | undefined {
  return a?.kind === 'int' ? a.value : undefined;
}

export function int64s(t: TensorValue | undefined): number[] | undefined {
  if (!t || t.dataType !== 7) return undefined;
  const view = new DataView(t.raw.buffer, t.raw.byteOffset, t.raw.byteLength);
  return Array.from({ length: t.raw.byteLength / 8 }, (_, i) => Number(view.getBigInt64(i * 8, true)));
}

export function floats(t: TensorValue | undefined): Float32Array | undefined {
  if (!t || t.dataType !== 1) return undefined;
  return new Float32Array(t.raw.slice().buffer);
}

let counter = 0;

/** A new initializer named after `hint`: the original may be shared by another node that must keep its values. */
export function addFloats(initializers: Map<string, TensorValue>, hint: string, dims: readonly number[], data: Float32Array): string {
  const name = `${hint}__r${counter++}`;
  initializers.set(name, { name, dataType: 1, dims: [...dims], raw: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) });
  return name;
}

export function addInt64s(initializers: Map<string, TensorValue>, hint: string, values: readonly number[]): string {
  const name = `${hint}__r${counter++}`;
  const data = BigInt64Array.from(values, (v) => BigInt(v));
  initializers.set(name, { name, dataType: 7, dims: [values.length], raw: new Uint8Array(data.buffer) });
  return name;
}

/** How many nodes read each value. */
export function consumerCounts(nodes: readonly NodeSpec[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const n of nodes) for (const input of n.inputs) if (input) counts.set(input, (counts.get(input) ?? 0) + 1);
  return counts;
}

export const TO_NCHW: readonly number[] = [0, 3, 1, 2];
export const TO_NHWC: readonly number[] = [0, 2, 3, 1];

export function transposeNode(input: string, output: string, perm: readonly number[]): NodeSpec {
  return { opType: 'Transpose', name: `${output}/transpose`, inputs: [input], outputs: [output], attributes: { perm: { kind: 'ints', value: perm } } };
}

/** Puts `added` in the place of nodes[idx]; returns the index of the last of them, where a scan goes on from. */
export function replaceNode(nodes: NodeSpec[], idx: number, added: readonly NodeSpec[]): number {
  nodes.splice(idx, 1, ...added);
  return idx + added.length - 1;
}
