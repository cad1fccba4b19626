/** The parts of a TF.js layers model.json (Keras topology) that the converter reads. */
import type { WeightSpec } from '../graph/tf-types.js';

/** Keras 2 inbound node: [layer name, node index, tensor index, kwargs]. */
export type InboundRef = [string, number, number, Record<string, unknown>?];

export interface KerasLayer {
  name?: string;
  class_name: string;
  config: Record<string, unknown> & { name?: string };
  inbound_nodes?: InboundRef[][];
}

export interface KerasModelConfig {
  class_name: string;
  config: {
    name?: string;
    layers: KerasLayer[];
    input_layers?: [string, number, number][];
    output_layers?: [string, number, number][];
  } | KerasLayer[];
}

export interface LayersModelJson {
  /** "layers-model"; older exports leave it out. */
  format?: 'layers-model';
  generatedBy?: string;
  convertedBy?: string;
  modelTopology: { keras_version?: string; backend?: string; model_config?: KerasModelConfig } & Partial<KerasModelConfig>;
  weightsManifest: { paths: string[]; weights: WeightSpec[] }[];
}
