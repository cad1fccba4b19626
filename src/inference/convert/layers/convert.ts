import { GraphBuilder } from '../builder.js';
import type { ConvertedModel } from '../graph/convert.js';
import { ConvertError, type Value } from '../ir.js';
import { decodeWeights } from '../weights.js';
import { activationHandlers } from './activations.js';
import { LayerContext, WeightStore, type Fusion, type LayerHandler } from './context.js';
import { convHandlers, zeroPadding } from './conv.js';
import { coreHandlers, parametricHandler } from './core.js';
import { readTopology, type Call, type Topology } from './topology.js';
import type { LayersModelJson } from './types.js';

const handlers: Record<string, LayerHandler> = { ...convHandlers, ...coreHandlers, ...activationHandlers };
const convClasses = new Set(['Conv2D', 'DepthwiseConv2D']);

interface Plan {
  fusions: Map<Call, Fusion>;
  /** Output keys of absorbed layers, mapped to the key that now stands for them. */
  alias: Map<string, string>;
  skip: Set<Call>;
}

/** A tensor read by exactly one call and not a model output can be absorbed into that call. */
function soleConsumer(top: Topology, key: string): Call | undefined {
  const readers = top.consumers.get(key) ?? [];
  return readers.length === 1 && !top.outputs.some((o) => o.key === key) ? readers[0] : undefined;
}

function isLastAxis(axis: unknown): boolean {
  const a = Array.isArray(axis) && axis.length === 1 ? axis[0] : axis;
  return a === -1 || a === 3 || a == null;
}

/**
 * Decides which layers fold into a convolution: a BatchNormalization right after a linear conv becomes
 * the conv's weights and bias, a ZeroPadding2D right before a "valid" conv becomes its pads.
 */
function planFusions(top: Topology): Plan {
  const plan: Plan = { fusions: new Map(), alias: new Map(), skip: new Set() };
  const fusion = (c: Call) => plan.fusions.get(c) ?? (plan.fusions.set(c, {}), plan.fusions.get(c)!);
  for (const call of top.calls) {
    const cls = call.layer.class_name;
    if (cls === 'BatchNormalization' && call.inputs.length === 1 && isLastAxis(call.layer.config.axis)) {
      const conv = top.producer.get(call.inputs[0]!)!;
      const act = conv.layer.config.activation;
      if (convClasses.has(conv.layer.class_name) && (act == null || act === 'linear') && soleConsumer(top, conv.out) === call && !fusion(conv).bn) {
        fusion(conv).bn = call.layer;
        plan.alias.set(call.out, conv.out);
        plan.skip.add(call);
      }
    }
    if (cls === 'ZeroPadding2D' && call.inputs.length === 1) {
      const next = soleConsumer(top, call.out);
      const pads = zeroPadding(call.layer.config);
      const cfg = next?.layer.config;
      if (next && pads && convClasses.has(next.layer.class_name) && (cfg!.padding ?? 'valid') === 'valid'
        && (cfg!.data_format ?? 'channels_last') === 'channels_last' && (call.layer.config.data_format ?? 'channels_last') === 'channels_last') {
        fusion(next).pads = pads;
        plan.alias.set(call.out, call.inputs[0]!);
        plan.skip.add(call);
      }
    }
  }
  return plan;
}

function inputShape(call: Call, model: string): (number | null)[] {
  const c = call.layer.config;
  const shape = c.batch_input_shape ?? c.batch_shape;
  if (!Array.isArray(shape) || !shape.every((d) => d === null || typeof d === 'number')) {
    throw new ConvertError(`model ${model}: input ${call.name} has no batch_input_shape`);
  }
  return shape as (number | null)[];
}

/**
 * Converts a TF.js layers model (Keras topology) to ONNX. Like the graph converter, tensors keep TF's NHWC
 * layout and only convolutions, pools and layout-bound ops are wrapped in transposes, which onnxruntime's
 * transpose optimiser cancels between neighbours. Every weight in the manifest must be used.
 */
export function convertLayersModel(json: LayersModelJson, weightData: Uint8Array, model: string, opts: { opset?: number } = {}): ConvertedModel {
  const b = new GraphBuilder();
  const store = new WeightStore(decodeWeights(json.weightsManifest.flatMap((g) => g.weights), weightData, model), model);
  const top = readTopology(json, model);
  const plan = planFusions(top);
  const values = new Map<string, Value>();
  const inputs: ConvertedModel['inputs'] = [];
  const resolve = (key: string): string => {
    let k = key;
    while (plan.alias.has(k)) k = plan.alias.get(k)!;
    return k;
  };

  for (const call of top.calls) {
    if (plan.skip.has(call)) continue;
    const cls = call.layer.class_name;
    if (cls === 'InputLayer') {
      const dtype = call.layer.config.dtype ?? 'float32';
      if (dtype !== 'float32') throw new ConvertError(`model ${model}: input ${call.name} has dtype ${String(dtype)}; only float32 is supported`);
      const shape = inputShape(call, model);
      values.set(call.out, b.input(call.name, 'float32', shape));
      inputs.push({ name: call.name, dtype: 'float32', shape });
      continue;
    }
    const handler = handlers[cls] ?? parametricHandler(cls);
    if (!handler) throw new ConvertError(`model ${model}: unsupported layer class ${cls} (layer ${call.name})`);
    const resolved = call.inputs.map((ref) => values.get(resolve(ref)) ?? (() => {
      throw new ConvertError(`model ${model}: layer ${call.name} reads ${ref}, which was not produced`);
    })());
    const ctx = new LayerContext(b, call.layer, call.name, resolved, model, store, plan.fusions.get(call));
    values.set(call.out, handler(ctx));
  }

  const unused = store.unused();
  if (unused.length) throw new ConvertError(`model ${model}: weights not used by any layer: ${unused.slice(0, 5).join(', ')}${unused.length > 5 ? ', ...' : ''}`);
  const outputs: string[] = [];
  for (const o of top.outputs) {
    const v = values.get(resolve(o.key));
    if (!v) throw new ConvertError(`model ${model}: output ${o.name} was not produced`);
    b.output(v, o.name);
    outputs.push(o.name);
  }
  const onnx = b.encode({ graphName: model, opset: opts.opset ?? 17 });
  return { onnx, inputs, outputs, nodes: b.nodeCount };
}
