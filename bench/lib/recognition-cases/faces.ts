import type { RecognitionCase } from './types.js';

/**
 * Faces and segmentation, for bench/recognition.ts. Each human config runs the same models our endpoint runs:
 * detection = BlazeFace plus FaceMesh (our service confirms every detection with the mesh and takes the box and
 * landmarks from it); attributes add FaceRes (age, gender), emotion, antispoof and liveness; segmentation is
 * selfie in two modes, each against the reference call that builds the same pixels at the image's size: the
 * RGBA cutout, and the 8-bit mask; the reference stops at a tensor where the API also encodes a PNG.
 * Caching/frame skipping is off so every image is computed.
 */
const images = [
  'faces/groups/bbt1.jpg', 'faces/groups/bbt3.jpg', 'faces/groups/bbt4.jpg',
  'faces/single/happy.jpg', 'faces/single/neutral.jpg', 'faces/none/horses.jpg',
];

const segmentImages = ['faces/single/happy.jpg', 'faces/single/neutral.jpg', 'faces/padded/identities/amy/01.jpg'];

const off = {
  cacheSensitivity: 0,
  skipAllowed: false,
  filter: { enabled: false },
  gesture: { enabled: false },
  body: { enabled: false },
  hand: { enabled: false },
  object: { enabled: false },
  segmentation: { enabled: false },
};

const faceOnly = (attributes: boolean) => ({
  ...off,
  face: {
    enabled: true,
    detector: { enabled: true, modelPath: 'blazeface.json', rotation: false, maxDetected: 120, minConfidence: 0.6, iouThreshold: 0.3, skipFrames: 0, skipTime: 0 },
    mesh: { enabled: true, modelPath: 'facemesh.json' },
    attention: { enabled: false },
    iris: { enabled: false },
    emotion: { enabled: attributes, modelPath: 'emotion.json', skipFrames: 0, skipTime: 0 },
    description: { enabled: attributes, modelPath: 'faceres.json', skipFrames: 0, skipTime: 0 },
    antispoof: { enabled: attributes, modelPath: 'antispoof.json', skipFrames: 0, skipTime: 0 },
    liveness: { enabled: attributes, modelPath: 'liveness.json', skipFrames: 0, skipTime: 0 },
  },
});

export const cases: RecognitionCase[] = [
  { name: 'faces (blazeface + facemesh)', path: '/v1/faces/detect', fields: {}, images, humanConfig: faceOnly(false), decode: { maxSide: 2048 } },
  { name: 'faces + all attributes', path: '/v1/faces/detect', fields: { attributes: 'all' }, images, humanConfig: faceOnly(true), decode: { maxSide: 2048 } },
  ...(['cutout', 'mask'] as const).map((mode) => ({
    name: `segment (selfie, ${mode})`,
    path: '/v1/images/segment',
    fields: { mode },
    images: segmentImages,
    // Human's 'default' mode returns the image with the alpha as a fourth channel, 'alpha' the mask alone.
    humanConfig: { ...off, face: { enabled: false }, segmentation: { enabled: true, modelPath: 'selfie.json', mode: mode === 'mask' ? 'alpha' : 'default' } },
    decode: { maxSide: 16_384 },
  })),
];
