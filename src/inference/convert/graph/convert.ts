import { GraphBuilder } from '../builder.js';
import { ConvertError, type DType, type Value } from '../ir.js';
import { decodeWeights } from '../weights.js';
import { OpContext } from './context.js';
import { handlers } from './ops/index.js';
import type { GraphModelJson, TfAttr, TfNode } from './tf-types.js';

export interface ConvertedModel {
  onnx: Uint8Array;
  /** `fromNhwc`: an image input the TF.js model takes as NHWC, taken as NCHW here (GraphConvertOptions.inputLayout). */
  inputs: { name: string; dtype: DType; shape: (number | null)[]; fromNhwc?: true }[];
  outputs: string[];
  nodes: number;
}

/** Ops that carry no computation once control dependencies are dropped. */
const passThrough = new Set(['Identity', 'StopGradient', 'Snapshot']);

function tfDtype(a: TfAttr | undefined): DType {
  switch (a?.type) {
    case 'DT_INT32': return 'int32';
    case 'DT_UINT8': return 'uint8';
    case 'DT_BOOL': return 'bool';
    case 'DT_INT64': return 'int64';
    default: return 'float32';
  }
}

function signatureOf(json: GraphModelJson): GraphModelJson['signature'] {
  return json.signature ?? (json.userDefinedMetadata?.signature as GraphModelJson['signature']);
}

/** "name:1" -> ["name", 1]; "^name" is a control input and is dropped by the caller. */
function splitRef(ref: string): [string, number] {
  const m = /^(.*?)(?::(\d+))?$/.exec(ref)!;
  return [m[1]!, m[2] ? Number(m[2]) : 0];
}

function orderNodes(nodes: readonly TfNode[], model: string): TfNode[] {
  const byName = new Map(nodes.map((n) => [n.name, n]));
  const done = new Set<string>();
  const order: TfNode[] = [];
  const visiting = new Set<string>();
  const visit = (n: TfNode) => {
    if (done.has(n.name)) return;
    if (visiting.has(n.name)) throw new ConvertError(`model ${model}: the graph has a cycle at ${n.name} (control flow is not supported)`);
    visiting.add(n.name);
    for (const ref of n.input ?? []) {
      if (ref.startsWith('^')) continue;
      const dep = byName.get(splitRef(ref)[0]);
      if (dep) visit(dep);
    }
    visiting.delete(n.name);
    done.add(n.name);
    order.push(n);
  };
  // An explicit stack would be needed for graphs deeper than the JS stack; ours are a few thousand nodes.
  for (const n of nodes) visit(n);
  return order;
}

/**
 * Converts a TF.js graph model to ONNX. Tensors keep TF's NHWC layout in the graph; convolutions and pools
 * are wrapped in transposes that onnxruntime's transpose optimiser cancels between neighbouring layers.
 */
export interface GraphConvertOptions {
  opset?: number;
  /**
   * 'nchw': the converted graph takes its 4-D NHWC image input (last axis 1, 3 or 4 channels) as NCHW, what
   * preprocessing writes as cheaply, through a Transpose that onnxruntime cancels against the first
   * convolution's own: one pass over the input fewer per run (CenterNet's 512x512: about 1.4 ms). An input
   * already NCHW in the TF.js model (NanoDet's) is left as it is.
   */
  inputLayout?: 'nhwc' | 'nchw';
  /**
   * Only these of the model's outputs (by name): onnxruntime runs every node of a graph whatever a run fetches,
   * so the nodes only the others need would still run (CenterNet's heatmap Reorder to NHWC: about 1 ms a run).
   */
  outputs?: readonly string[];
}

export function convertGraphModel(json: GraphModelJson, weightData: Uint8Array, model: string, opts: GraphConvertOptions = {}): ConvertedModel {
  const b = new GraphBuilder();
  const specs = json.weightsManifest.flatMap((g) => g.weights);
  const weights = decodeWeights(specs, weightData, model);
  const nodes = json.modelTopology.node;
  const values = new Map<string, Value>();
  const signature = signatureOf(json);
  const inputs: ConvertedModel['inputs'] = [];

  for (const node of orderNodes(nodes, model)) {
    const refs = (node.input ?? []).filter((r) => !r.startsWith('^'));
    if (node.op === 'Const') {
      const w = weights.get(node.name);
      if (!w) throw new ConvertError(`model ${model}: constant ${node.name} has no weight data`);
      values.set(`${node.name}:0`, b.constant(w.data, w.shape, node.name));
      continue;
    }
    if (node.op === 'Placeholder') {
      const dims = node.attr?.shape?.shape?.dim?.map((d) => (Number(d.size) < 0 ? null : Number(d.size)));
      if (!dims) throw new ConvertError(`model ${model}: input ${node.name} has an unknown rank`);
      const dtype = tfDtype(node.attr?.dtype);
      const [n, h, w, c] = dims;
      if (opts.inputLayout === 'nchw' && dims.length === 4 && c !== null && c! <= 4 && !(h !== null && h! <= 4)) {
        const nchw = [n!, c!, h!, w!];
        const x = b.input(node.name, dtype, nchw);
        values.set(`${node.name}:0`, b.node('Transpose', [x], { perm: [0, 2, 3, 1] }, { dtype, shape: dims }));
        inputs.push({ name: node.name, dtype, shape: nchw, fromNhwc: true });
        continue;
      }
      values.set(`${node.name}:0`, b.input(node.name, dtype, dims));
      inputs.push({ name: node.name, dtype, shape: dims });
      continue;
    }
    if (node.op === 'NoOp') continue;
    const resolved = refs.map((r) => {
      const [name, index] = splitRef(r);
      const v = values.get(`${name}:${index}`);
      if (!v) throw new ConvertError(`model ${model}: ${node.op} node ${node.name} reads ${r}, which was not produced`);
      return v;
    });
    if (passThrough.has(node.op)) {
      values.set(`${node.name}:0`, resolved[0]!);
      continue;
    }
    const handler = handlers[node.op];
    if (!handler) throw new ConvertError(`model ${model}: unsupported op ${node.op} (node ${node.name})`);
    const out = handler(new OpContext(node, resolved, b, model));
    (Array.isArray(out) ? out : [out]).forEach((v, i) => values.set(`${node.name}:${i}`, v));
  }

  const outputRefs = signature?.outputs
    ? Object.values(signature.outputs).map((o) => o.name)
    : nodes.filter((n) => !nodes.some((m) => (m.input ?? []).some((r) => splitRef(r.replace(/^\^/, ''))[0] === n.name)) && n.op !== 'Const' && n.op !== 'NoOp').map((n) => n.name);
  const outputs: string[] = [];
  const kept = outputRefs.filter((ref) => !opts.outputs || opts.outputs.includes(splitRef(ref)[0]));
  if (kept.length === 0) throw new ConvertError(`model ${model}: none of the outputs ${opts.outputs?.join(', ')} is among ${outputRefs.join(', ')}`);
  for (const ref of kept) {
    const [name, index] = splitRef(ref);
    const v = values.get(`${name}:${index}`);
    if (!v) throw new ConvertError(`model ${model}: output ${ref} was not produced`);
    const outName = name;
    b.output(v, outName);
    outputs.push(outName);
  }
  const onnx = b.encode({ graphName: model, opset: opts.opset ?? 17 });
  return { onnx, inputs, outputs, nodes: b.nodeCount };
}
