import path from 'node:path';
import type { ModelEntry } from '../registry.js';
import { convertGraphModel, type ConvertedModel } from './graph/convert.js';
import { ConvertError } from './ir.js';
import { convertLayersModel } from './layers/index.js';
import { readNsfwjsModel } from './nsfwjs-bundle.js';
import { packageDir, readTfjsModel } from './sources.js';

/** Converts a registry entry's TF.js source to ONNX: graph and layers models, and nsfwjs's JS bundles. */
export function convertEntry(entry: ModelEntry): ConvertedModel {
  const file = path.join(packageDir(entry.source.package), entry.source.files[0]!);
  switch (entry.source.format) {
    case 'tfjs-graph': {
      const { json, weights } = readTfjsModel(file);
      return convertGraphModel(json, weights, entry.id, { inputLayout: entry.input.layout, outputs: entry.fetch });
    }
    case 'tfjs-layers': {
      const { json, weights } = readTfjsModel(file);
      return convertLayersModel(json, weights, entry.id);
    }
    case 'nsfwjs-bundle': {
      const name = path.basename(file) as Parameters<typeof readNsfwjsModel>[0];
      const { json, weights } = readNsfwjsModel(name);
      return json.format === 'graph-model' ? convertGraphModel(json, weights, entry.id, { inputLayout: entry.input.layout }) : convertLayersModel(json, weights, entry.id);
    }
    default:
      throw new ConvertError(`model ${entry.id}: ${entry.source.format} sources need no conversion`);
  }
}
