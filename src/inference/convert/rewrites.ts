import { clampAsClip, expandPRelu, fuseHardSwish, reluIntoConcatInputs } from './activations.js';
import { padChannels } from './channel-pad.js';
import { convMeanAsFullConv } from './conv-mean.js';
import { peakMaskInBlockedLayout } from './peak-mask.js';
import type { NodeSpec, TensorValue } from './onnx/proto.js';
import { foldChannelOpsIntoConvs, foldPadsIntoConvs } from './peephole.js';
import { halvingResizeAsPool, nearestUpsampleConvAsDepthToSpace } from './resample.js';
import { splitLongTopK } from './topk-split.js';
import { denseOnPooledAsConv, scaleBeforeClip, spatialMeanAsPool, spreadChannelGates, type ShapeOf } from './squeeze-excite.js';
import { unitTransposeAsReshape } from './unit-transpose.js';

/**
 * The rewrites applied to a finished graph (pruned of dead nodes), in order: each works for onnxruntime's
 * optimiser, which misses these because of the order of its own passes or the NCHWc layout's limits. What each
 * measured is in docs/models.md ("How the conversion works").
 */
export function rewriteForOnnxruntime(nodes: NodeSpec[], initializers: Map<string, TensorValue>, shapeOf: ShapeOf, outputs: readonly string[]): void {
  foldPadsIntoConvs(nodes, initializers);
  foldChannelOpsIntoConvs(nodes, initializers);
  fuseHardSwish(nodes, initializers);
  clampAsClip(nodes, initializers);
  expandPRelu(nodes, initializers, shapeOf);
  reluIntoConcatInputs(nodes);
  spatialMeanAsPool(nodes, shapeOf);
  denseOnPooledAsConv(nodes, initializers, shapeOf);
  scaleBeforeClip(nodes, initializers);
  // Again: the scales moved in front of Clips now sit right after their convolutions.
  foldChannelOpsIntoConvs(nodes, initializers);
  spreadChannelGates(nodes, initializers, shapeOf);
  halvingResizeAsPool(nodes, initializers, shapeOf);
  nearestUpsampleConvAsDepthToSpace(nodes, initializers);
  convMeanAsFullConv(nodes, initializers, shapeOf);
  unitTransposeAsReshape(nodes, initializers, shapeOf);
  peakMaskInBlockedLayout(nodes, initializers, shapeOf);
  padChannels(nodes, initializers);
  splitLongTopK(nodes, initializers, shapeOf);
  nameOutputsAtSource(nodes, initializers, outputs);
}

/**
 * A graph output produced by the node computing it rather than by an Identity of that node's result: onnxruntime
 * copies through an Identity whose input has other readers (CenterNet's 5 MB heatmap, which the in-graph peak
 * picking also reads: 0.8 ms of copying per run).
 */
function nameOutputsAtSource(nodes: NodeSpec[], initializers: ReadonlyMap<string, TensorValue>, outputs: readonly string[]): void {
  const producers = new Map<string, NodeSpec>();
  for (const n of nodes) for (const o of n.outputs) producers.set(o, n);
  const renames = new Map<string, string>();
  for (const out of outputs) {
    const identity = producers.get(out);
    const source = identity?.opType === 'Identity' ? identity.inputs[0] : undefined;
    // Graph inputs and initializers have no producing node to rename; a value two outputs share keeps one Identity.
    if (!identity || !source || !producers.has(source) || initializers.has(source) || outputs.includes(source) || renames.has(source)) continue;
    renames.set(source, out);
    nodes.splice(nodes.indexOf(identity), 1);
  }
  if (renames.size === 0) return;
  const rename = (name: string) => renames.get(name) ?? name;
  nodes.forEach((n, i) => { nodes[i] = { ...n, inputs: n.inputs.map(rename), outputs: n.outputs.map(rename) }; });
}
