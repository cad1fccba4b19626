import { DataType as OnnxType, encodeModel, type AttributeValue, type DataTypeId, type NodeSpec, type TensorValue, type ValueInfo } from './onnx/proto.js';
import { ConvertError, type ConstData, type DType, type Value } from './ir.js';
import { rewriteForOnnxruntime } from './rewrites.js';

const onnxType: Record<DType, DataTypeId> = {
  float32: OnnxType.FLOAT, int32: OnnxType.INT32, int64: OnnxType.INT64, bool: OnnxType.BOOL, uint8: OnnxType.UINT8,
};

export type Attr = number | string | readonly number[] | { floats: readonly number[] } | { float: number };

function attribute(v: Attr): AttributeValue {
  if (typeof v === 'string') return { kind: 'string', value: v };
  if (typeof v === 'number') return { kind: 'int', value: v };
  if ('floats' in v) return { kind: 'floats', value: v.floats };
  if ('float' in v) return { kind: 'float', value: v.float };
  return { kind: 'ints', value: v };
}

function bytesOf(data: ConstData): Uint8Array {
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

/**
 * Accumulates an ONNX graph. Constants are values with data; they become initializers only when a node uses
 * them, so shape arithmetic folded at conversion time leaves nothing behind.
 */
export class GraphBuilder {
  private readonly nodes: NodeSpec[] = [];
  private readonly initializers = new Map<string, TensorValue>();
  private readonly inputs: ValueInfo[] = [];
  private readonly outputs: ValueInfo[] = [];
  private readonly used = new Set<string>();
  /** Known shapes of the values, for the rewrites in encode (an NCHW view's spatial size, say). */
  private readonly shapes = new Map<string, readonly (number | null)[]>();
  private counter = 0;

  fresh(hint: string): string {
    const base = hint.replace(/[^A-Za-z0-9_./:-]/g, '_');
    let name: string;
    do name = `${base}__${this.counter++}`; while (this.used.has(name));
    this.used.add(name);
    return name;
  }

  reserve(name: string): string {
    if (this.used.has(name)) return this.fresh(name);
    this.used.add(name);
    return name;
  }

  constant(data: ConstData, shape: readonly number[], hint = 'const'): Value {
    const dtype: DType = data instanceof Float32Array ? 'float32' : data instanceof Int32Array ? 'int32'
      : data instanceof BigInt64Array ? 'int64' : 'uint8';
    return { name: this.fresh(hint), dtype, shape: [...shape], data };
  }

  floats(values: readonly number[], shape: readonly number[] = [values.length], hint = 'f'): Value {
    return this.constant(Float32Array.from(values), shape, hint);
  }

  int64s(values: readonly number[], shape: readonly number[] = [values.length], hint = 'i'): Value {
    return this.constant(BigInt64Array.from(values, (v) => BigInt(v)), shape, hint);
  }

  private materialise(v: Value): string {
    if (v.data && !this.initializers.has(v.name)) {
      const dataType = v.dtype === 'bool' ? OnnxType.BOOL : onnxType[v.dtype];
      this.initializers.set(v.name, { name: v.name, dataType, dims: (v.shape ?? []).map((d) => d ?? 0), raw: bytesOf(v.data) });
    }
    return v.name;
  }

  input(name: string, dtype: DType, shape: readonly (number | null)[]): Value {
    const v: Value = { name: this.reserve(name), dtype, shape };
    this.inputs.push({ name: v.name, dataType: onnxType[dtype], shape: shape.map((d, i) => d ?? (i === 0 ? 'batch' : `d${i}`)) });
    return v;
  }

  /** Marks `v` as a graph output called `name` (an Identity keeps the requested name). */
  output(v: Value, name: string): void {
    const outName = this.reserve(name);
    this.node('Identity', [v], {}, { dtype: v.dtype, ...(v.shape && { shape: v.shape }) }, outName);
    this.outputs.push({ name: outName, dataType: onnxType[v.dtype], shape: (v.shape ?? []).map((d, i) => d ?? `${name}_d${i}`) });
  }

  /** Adds one node with one output. `out` gives the output's dtype and, when known, its shape. */
  node(op: string, inputs: readonly (Value | null)[], attrs: Record<string, Attr | undefined>, out: { dtype: DType; shape?: readonly (number | null)[] }, name?: string): Value {
    return this.nodeN(op, inputs, attrs, [out], name)[0]!;
  }

  nodeN(op: string, inputs: readonly (Value | null)[], attrs: Record<string, Attr | undefined>, outs: readonly { dtype: DType; shape?: readonly (number | null)[] }[], name?: string): Value[] {
    const outputs = outs.map((o, i) => ({ name: i === 0 && name ? name : this.fresh(`${op}_out`), ...o }));
    for (const o of outputs) if (o.shape) this.shapes.set(o.name, o.shape);
    const attributes: Record<string, AttributeValue> = {};
    for (const [k, v] of Object.entries(attrs)) if (v !== undefined) attributes[k] = attribute(v);
    // Trailing absent inputs are left out rather than named '': onnxruntime's NCHWc rewrite takes an empty bias
    // name for a run-time value and leaves such a convolution in the slow NCHW kernels.
    let count = inputs.length;
    while (count > 0 && inputs[count - 1] === null) count--;
    this.nodes.push({
      opType: op,
      name: this.fresh(op),
      inputs: inputs.slice(0, count).map((v) => (v === null ? '' : this.materialise(v))),
      outputs: outputs.map((o) => o.name),
      attributes,
    });
    return outputs;
  }

  /**
   * Nodes that lead to an output, in order. Handlers may emit a value that a later rewrite no longer reads
   * (a transpose whose consumers moved to the NCHW side); onnxruntime would run such nodes anyway.
   */
  private live(): { nodes: NodeSpec[]; initializers: TensorValue[] } {
    const needed = new Set(this.outputs.map((o) => o.name));
    const kept: NodeSpec[] = [];
    for (let i = this.nodes.length - 1; i >= 0; i--) {
      const n = this.nodes[i]!;
      if (!n.outputs.some((o) => needed.has(o))) continue;
      kept.push(n);
      for (const input of n.inputs) if (input) needed.add(input);
    }
    return { nodes: kept.reverse(), initializers: [...this.initializers.values()].filter((t) => needed.has(t.name)) };
  }

  encode(opts: { graphName: string; opset: number; docString?: string; metadata?: Record<string, string> }): Uint8Array {
    if (this.outputs.length === 0) throw new ConvertError(`model ${opts.graphName} has no outputs`);
    // Rewrites look at who consumes a value: dead nodes (a handler's unused transpose) would count, so prune first.
    const pruned = this.live().nodes;
    rewriteForOnnxruntime(pruned, this.initializers, (name) => this.shapes.get(name), this.outputs.map((o) => o.name));
    this.nodes.splice(0, this.nodes.length, ...pruned);
    const { nodes, initializers } = this.live();
    return encodeModel({
      graphName: opts.graphName,
      nodes,
      initializers,
      inputs: this.inputs,
      outputs: this.outputs,
      opset: opts.opset,
      producer: 'imgsense-convert',
      ...(opts.docString && { docString: opts.docString }),
      ...(opts.metadata && { metadata: opts.metadata }),
    });
  }

  get nodeCount(): number {
    return this.live().nodes.length;
  }
}
