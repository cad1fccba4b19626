export { convertLayersModel } from './convert.js';
export type { LayersModelJson } from './types.js';
