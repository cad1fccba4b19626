export interface RecognitionCase {
  /** e.g. 'objects (centernet)' */
  name: string;
  /** e.g. '/v1/vision/objects' */
  path: string;
  /** JSON fields sent besides the image */
  fields: Record<string, unknown>;
  /** fixture paths relative to shared/fixtures */
  images: string[];
  /** @vladmandic/human config that enables exactly the same models (everything else off) */
  humanConfig: Record<string, unknown>;
  /** How the server decodes this case's images (decodeForModels' maxSide and minSide), for the ceiling. */
  decode?: { maxSide: number; minSide?: number };
}
