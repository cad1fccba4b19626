import { ConvertError } from '../ir.js';
import type { KerasLayer, KerasModelConfig, LayersModelJson } from './types.js';

/** One application of a layer (a Keras "node"): a shared layer has one call per use. */
export interface Call {
  layer: KerasLayer;
  name: string;
  node: number;
  /** Output keys of the tensors it reads. */
  inputs: string[];
  /** Its (single) output's key. */
  out: string;
}

export interface Topology {
  /** Calls in an order where every input is produced before it is read. */
  calls: Call[];
  inputs: Call[];
  outputs: { key: string; name: string }[];
  producer: Map<string, Call>;
  consumers: Map<string, Call[]>;
}

const key = (layer: string, node: number, tensor: number) => `${layer}:${node}:${tensor}`;

function modelConfig(json: LayersModelJson, model: string): KerasModelConfig {
  const top = json.modelTopology;
  const mc = top.model_config ?? (top.class_name ? (top as KerasModelConfig) : undefined);
  if (!mc?.config) throw new ConvertError(`model ${model}: modelTopology holds no Keras model_config`);
  return mc;
}

/** A Sequential model as the functional graph it stands for: a chain from its first layer's input shape. */
function sequentialLayers(layers: KerasLayer[], model: string): { layers: KerasLayer[]; inputs: [string, number, number][]; outputs: [string, number, number][] } {
  const first = layers[0];
  if (!first) throw new ConvertError(`model ${model}: the Sequential model has no layers`);
  let input = first;
  let rest = layers.slice(1);
  if (first.class_name !== 'InputLayer') {
    const shape = first.config.batch_input_shape;
    if (!Array.isArray(shape)) throw new ConvertError(`model ${model}: the first layer of the Sequential model has no batch_input_shape`);
    const name = `${first.config.name ?? 'sequential'}_input`;
    input = { class_name: 'InputLayer', name, config: { name, batch_input_shape: shape, dtype: first.config.dtype ?? 'float32' } };
    rest = layers;
  }
  if (rest.length === 0) throw new ConvertError(`model ${model}: the Sequential model has no layers after its input`);
  const inputName = input.config.name ?? input.name!;
  const out: KerasLayer[] = [{ ...input, name: inputName, inbound_nodes: [] }];
  let prev = inputName;
  for (const layer of rest) {
    const name = layer.config.name ?? layer.name;
    if (!name) throw new ConvertError(`model ${model}: a ${layer.class_name} layer has no name`);
    out.push({ ...layer, name, inbound_nodes: [[[prev, 0, 0, {}]]] });
    prev = name;
  }
  return { layers: out, inputs: [[inputName, 0, 0]], outputs: [[prev, 0, 0]] };
}

/** The model's calls in dependency order, with who produces and who reads each tensor. */
export function readTopology(json: LayersModelJson, model: string): Topology {
  const mc = modelConfig(json, model);
  let layers: KerasLayer[];
  let inputLayers: [string, number, number][];
  let outputLayers: [string, number, number][];
  if (mc.class_name === 'Sequential') {
    const list = Array.isArray(mc.config) ? mc.config : mc.config.layers;
    ({ layers, inputs: inputLayers, outputs: outputLayers } = sequentialLayers(list, model));
  } else if (mc.class_name === 'Model' || mc.class_name === 'Functional') {
    if (Array.isArray(mc.config)) throw new ConvertError(`model ${model}: a ${mc.class_name} config must be an object`);
    layers = mc.config.layers;
    inputLayers = mc.config.input_layers ?? [];
    outputLayers = mc.config.output_layers ?? [];
  } else {
    throw new ConvertError(`model ${model}: unsupported model class ${mc.class_name}`);
  }

  const calls = new Map<string, Call>();
  const producer = new Map<string, Call>();
  for (const layer of layers) {
    const name = layer.config.name ?? layer.name;
    if (!name) throw new ConvertError(`model ${model}: a ${layer.class_name} layer has no name`);
    const nodes = layer.inbound_nodes ?? [];
    if (!Array.isArray(nodes) || nodes.some((n) => !Array.isArray(n))) {
      throw new ConvertError(`model ${model}: layer ${name} uses the Keras 3 inbound_nodes format, which is not supported`);
    }
    const uses = layer.class_name === 'InputLayer' ? [[]] : nodes;
    uses.forEach((refs, node) => {
      const call: Call = { layer, name, node, inputs: refs.map((r) => key(r[0], r[1], r[2])), out: key(name, node, 0) };
      calls.set(`${name}:${node}`, call);
      producer.set(call.out, call);
    });
  }

  const consumers = new Map<string, Call[]>();
  for (const call of calls.values()) {
    for (const ref of call.inputs) {
      if (!producer.has(ref)) throw new ConvertError(`model ${model}: layer ${call.name} reads ${ref}, which no layer produces`);
      consumers.set(ref, [...(consumers.get(ref) ?? []), call]);
    }
  }

  // Keras lists layers in creation order, which a shared layer can break: sort the calls themselves.
  const order: Call[] = [];
  const state = new Map<Call, 'visiting' | 'done'>();
  const visit = (c: Call) => {
    const s = state.get(c);
    if (s === 'done') return;
    if (s === 'visiting') throw new ConvertError(`model ${model}: the layer graph has a cycle at ${c.name}`);
    state.set(c, 'visiting');
    for (const ref of c.inputs) visit(producer.get(ref)!);
    state.set(c, 'done');
    order.push(c);
  };
  for (const c of calls.values()) visit(c);

  const inputs = inputLayers.map(([name, node]) => calls.get(`${name}:${node}`) ?? (() => {
    throw new ConvertError(`model ${model}: input layer ${name} is not in the model`);
  })());
  const outputs = outputLayers.map(([name, node, tensor]) => {
    const k = key(name, node, tensor);
    if (!producer.has(k)) throw new ConvertError(`model ${model}: output ${name} is not produced by any layer`);
    return { key: k, name: node === 0 && tensor === 0 ? name : `${name}_${node}_${tensor}` };
  });
  if (outputs.length === 0) throw new ConvertError(`model ${model}: the model declares no outputs`);
  return { calls: order, inputs, outputs, producer, consumers };
}
