import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { drawMarkings } from '../imaging/draw.js';
import type { FaceDetectOptions } from '../services/faces-request.js';
import type { DetectedFace, FaceDetectResult } from '../services/faces.js';
import { openImageSource } from '../services/image-input.js';
import type { Services } from '../services/create.js';
import type { Config } from '../config/env.js';
import { describeFailure, parseCommandLine, printError, readImageFile, UsageError, type FlagSpec } from './args.js';
import { forEachWithProgress } from './progress.js';
import { formatFromName, isDir, listImageFiles, openRecognitionServices } from './recognition.js';

export const facesUsage = `Usage: imgsense faces detect <file|folder> [options]

Finds faces, largest first, with six landmarks and, on request, attributes.

Options:
  --attributes LIST   all, or any of age,gender,emotion,pose,quality,liveness
  --max-faces N       most faces per image (default and ceiling: IMGSENSE_MAX_FACES, 120)
  --min-score S       detector score a face needs, 0 to 1 (default 0.6)
  --json              one JSON object per image (the same fields as POST /v1/faces/detect), one per line for a folder
  --draw OUT          write the image with boxes and landmarks drawn: a file for one image, a folder for a folder
  --recursive         include sub-folders

Limits come from the same environment variables as the server (docs/configuration.md).
Exit status: 0 all images read, 1 some failed, 2 usage error.
`;

const spec: FlagSpec = {
  attributes: { type: 'string' }, 'max-faces': { type: 'string' }, 'min-score': { type: 'string' },
  json: { type: 'boolean' }, draw: { type: 'string' }, recursive: { type: 'boolean' }, help: { type: 'boolean', short: 'h' },
};

const r1 = (v: number) => Math.round(v * 10) / 10;

/** One line per face: where, how sure, and what the attributes say. */
export function describeFace(f: DetectedFace, i: number): string {
  const b = f.box;
  const parts = [`${i + 1}. ${b.width}x${b.height} at ${b.x},${b.y}`, `score ${f.score.toFixed(2)}`];
  if (f.tooSmall) parts.push('too small');
  const a = f.attributes;
  if (a?.age !== undefined) parts.push(`age ${Math.round(a.age)}`);
  if (a?.gender) parts.push(`${a.gender.value} (${a.gender.score.toFixed(2)})`);
  if (a?.emotion) parts.push(`${a.emotion.value} (${(a.emotion.scores[a.emotion.value] ?? 0).toFixed(2)})`);
  if (a?.pose) parts.push(`yaw ${r1(a.pose.yaw)} pitch ${r1(a.pose.pitch)} roll ${r1(a.pose.roll)}`);
  if (a?.quality) parts.push(`quality ${a.quality.score}`);
  if (a?.liveness) parts.push(`liveness ${a.liveness.score.toFixed(2)}`);
  return `  ${parts.join('  ')}`;
}

export function formatFaces(name: string, r: FaceDetectResult): string {
  const head = `${name}: ${r.faces.length} face${r.faces.length === 1 ? '' : 's'} (${r.imageWidth}x${r.imageHeight})`;
  return [head, ...r.faces.map(describeFace)].join('\n') + '\n';
}

function fields(last: Record<string, string | true | undefined>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (typeof last.attributes === 'string') out.attributes = last.attributes;
  if (typeof last['max-faces'] === 'string') out.max_faces = last['max-faces'];
  if (typeof last['min-score'] === 'string') out.min_score = last['min-score'];
  return out;
}

async function detectFile(services: Services, config: Config, options: FaceDetectOptions, file: string, draw?: string): Promise<FaceDetectResult> {
  const bytes = await readImageFile(file, config.limits.maxImageBytes);
  const probe = await openImageSource({ kind: 'bytes', bytes }, { limits: config.limits, fetchAllowHosts: config.fetchAllowHosts });
  const result = await services.faces.detect(probe, options);
  if (draw) {
    const marks = result.faces.map((f, i) => ({ box: f.box, points: f.landmarks, label: `${i + 1} ${f.score.toFixed(2)}${f.attributes?.gender ? ` ${f.attributes.gender.value}` : ''}${f.attributes?.age !== undefined ? ` ${Math.round(f.attributes.age)}` : ''}${f.attributes?.emotion ? ` ${f.attributes.emotion.value}` : ''}` }));
    await mkdir(path.dirname(draw), { recursive: true });
    await writeFile(draw, await drawMarkings(probe, marks, formatFromName(draw)));
  }
  return result;
}

export async function facesCommand(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === '--help' || sub === '-h' || sub === 'help') {
    process.stdout.write(facesUsage);
    return 0;
  }
  let args;
  try {
    if (sub !== 'detect') throw new UsageError(`expected the sub-command detect but received ${JSON.stringify(sub ?? '')}`);
    args = parseCommandLine(rest, spec);
    if (args.last.help) {
      process.stdout.write(facesUsage);
      return 0;
    }
    if (args.positionals.length !== 1) throw new UsageError(`expected one image file or folder but received ${args.positionals.length}`);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    printError(`faces: ${err.message}\nRun imgsense faces --help for usage.`);
    return 2;
  }
  const input = args.positionals[0]!;
  const json = args.last.json === true;
  const draw = typeof args.last.draw === 'string' ? args.last.draw : undefined;
  let opened;
  let options: FaceDetectOptions;
  try {
    opened = openRecognitionServices();
    // The same fields for every file: a bad value is a usage error, reported once in the services' words.
    options = opened.services.faces.parse(fields(args.last), { coerce: true });
  } catch (err) {
    printError(`faces: ${err instanceof UsageError ? err.message : Object.values(describeFailure(err)).join(': ')}`);
    return 2;
  }
  const { services, config } = opened;
  try {
    if (!(await isDir(input))) {
      try {
        const r = await detectFile(services, config, options, input, draw);
        process.stdout.write(json ? `${JSON.stringify(r)}\n` : formatFaces(input, r));
        return 0;
      } catch (err) {
        const { code, message } = describeFailure(err);
        printError(`${input}: ${code}: ${message}`);
        return 1;
      }
    }
    const files = await listImageFiles(input, args.last.recursive === true);
    const out: string[] = new Array(files.length);
    let failed = 0;
    let faces = 0;
    await forEachWithProgress(files.length, services.concurrency, async (i) => {
      const rel = files[i]!;
      try {
        const target = draw ? path.join(draw, rel.replace(/\.[^.]+$/, '.jpg')) : undefined;
        const r = await detectFile(services, config, options, path.join(input, rel), target);
        faces += r.faces.length;
        out[i] = json ? `${JSON.stringify({ file: rel, ...r })}\n` : formatFaces(rel, r);
      } catch (err) {
        failed++;
        const { code, message } = describeFailure(err);
        out[i] = json ? `${JSON.stringify({ file: rel, error: { code, message } })}\n` : `${rel}: ${code}: ${message}\n`;
      }
    }, 'images');
    process.stdout.write(out.join(''));
    if (!json) process.stdout.write(`${files.length} images, ${faces} faces, ${failed} failed\n`);
    return failed > 0 ? 1 : 0;
  } finally {
    await services.inference.close();
  }
}
