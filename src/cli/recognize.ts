import { mkdir, readdir, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { LabelsResult } from '../services/vision/labels.js';
import type { ModerationResult } from '../services/vision/moderation.js';
import type { ObjectsResult } from '../services/vision/objects.js';
import {
  describeFailure, numberFlag, openServices, parseCommandLine, printError, readImageFile, UsageError,
  type CliServices, type FlagSpec, type ParsedArgs,
} from './args.js';
import { forEachWithProgress } from './progress.js';
import { LabelsParams, ModerationParams, ObjectsParams } from '../services/vision/params.js';
import { validate } from '../services/validate.js';

const paramSchemas = { detect: ObjectsParams, labels: LabelsParams, moderate: ModerationParams };

/**
 * imgsense detect | labels | moderate <file|dir>: the recognition services in-process, one file or every image
 * in a folder (files in flight = the service's concurrency), human-readable lines or --json.
 */
type Kind = 'detect' | 'labels' | 'moderate';

const common = `  --json                        one JSON object (a file), or one JSON line per file (a folder)
  --recursive                   include sub-folders; hidden files are always skipped
  -h, --help                    this help

Limits and moderation thresholds come from the same environment variables as the server (docs/configuration.md).
Exit status: 0 every file answered, 1 some failed, 2 usage error.
`;

export const usages: Record<Kind, string> = {
  detect: `Usage: imgsense detect <file|dir> [options]

COCO-80 objects in each image (as POST /v1/vision/objects).

  --model MODEL                 centernet (default) | nanodet
  --top-k N                     most objects per image (1-100, default 5)
  --min-score S                 lowest score (0-1, default 0.3)
  --classes a,b                 only these COCO classes, e.g. "person,dog,potted plant"
  --draw OUT                    write the image with boxes and labels: a file (.jpg, .png, .webp) for a file,
                                a folder for a folder
${common}`,
  labels: `Usage: imgsense labels <file|dir> [options]

Labels for the whole image (as POST /v1/vision/labels).

  --top-k N                     most labels per image (1-50, default 10)
  --lang en|zh                  language of the names and categories (default en)
${common}`,
  moderate: `Usage: imgsense moderate <file|dir> [options]

Pass, Review or Block, with the nsfw class scores (as POST /v1/vision/moderation).

  --model MODEL                 nsfw-mobilenet-v2 (default) | nsfw-mobilenet-v2-mid | nsfw-inception-v3
${common}`,
};

const specs: Record<Kind, FlagSpec> = {
  detect: { model: { type: 'string' }, 'top-k': { type: 'string' }, 'min-score': { type: 'string' }, classes: { type: 'string' }, draw: { type: 'string' } },
  labels: { 'top-k': { type: 'string' }, lang: { type: 'string' } },
  moderate: { model: { type: 'string' } },
};

/** Flags -> the fields the HTTP endpoint takes; values are checked by the service, in its words. */
function fieldsFrom(kind: Kind, args: ParsedArgs): Record<string, unknown> {
  const f = args.last;
  const fields: Record<string, unknown> = {};
  if (typeof f.model === 'string') fields.model = f.model;
  if (typeof f['top-k'] === 'string') fields.top_k = numberFlag('top-k', f['top-k']);
  if (typeof f['min-score'] === 'string') fields.min_score = numberFlag('min-score', f['min-score']);
  if (typeof f.classes === 'string') fields.classes = f.classes.split(',').map((c) => c.trim()).filter(Boolean);
  if (typeof f.lang === 'string') fields.lang = f.lang;
  if (kind === 'detect' && f.draw === true) throw new UsageError('--draw needs an output path');
  return fields;
}

type Result = ObjectsResult | LabelsResult | ModerationResult;

const pct = (v: number) => `${(v * 100).toFixed(1)}%`;

export function formatResult(kind: Kind, r: Result): string[] {
  if (kind === 'detect') {
    const { objects } = r as ObjectsResult;
    if (objects.length === 0) return ['  no objects'];
    const width = Math.max(...objects.map((o) => o.name.length));
    return objects.map((o) => `  ${o.name.padEnd(width)}  ${o.score.toFixed(2)}  x=${o.box.x} y=${o.box.y} w=${o.box.width} h=${o.box.height}`);
  }
  if (kind === 'labels') {
    const { labels } = r as LabelsResult;
    if (labels.length === 0) return ['  no labels'];
    return labels.map((l) => `  ${l.name} ${l.confidence} (${l.category})`);
  }
  const m = r as ModerationResult;
  const scores = Object.entries(m.scores).sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${pct(v)}`).join(', ');
  const frames = m.frames ? `; frames ${m.frames.judged.join(',')} of ${m.frames.total} judged, worst ${m.frames.worst}` : '';
  return [`  ${m.suggestion}: ${scores}${frames}`];
}

const drawFormat = (file: string): 'jpeg' | 'png' | 'webp' => {
  const ext = path.extname(file).toLowerCase();
  return ext === '.png' ? 'png' : ext === '.webp' ? 'webp' : 'jpeg';
};

async function runOne(svc: CliServices, kind: Kind, file: string, fields: Record<string, unknown>, drawTo?: string): Promise<Result> {
  const source = { kind: 'bytes' as const, bytes: await readImageFile(file, svc.config.limits.maxImageBytes) };
  if (kind === 'detect' && drawTo) {
    const { result, image } = await svc.vision.objectsDrawn(source, fields, drawFormat(drawTo));
    await mkdir(path.dirname(drawTo), { recursive: true });
    await writeFile(drawTo, image);
    return result;
  }
  if (kind === 'detect') return svc.vision.objects(source, fields);
  if (kind === 'labels') return svc.vision.labels(source, fields);
  return svc.vision.moderation(source, fields);
}

async function listFiles(root: string, recursive: boolean, rel = ''): Promise<string[]> {
  const entries = await readdir(path.join(root, rel), { withFileTypes: true });
  const out: string[] = [];
  for (const e of entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    if (e.name.startsWith('.')) continue;
    const r = path.join(rel, e.name);
    if (e.isDirectory()) { if (recursive) out.push(...(await listFiles(root, recursive, r))); } else if (e.isFile() || e.isSymbolicLink()) out.push(r);
  }
  return out;
}

async function runFolder(svc: CliServices, kind: Kind, dir: string, fields: Record<string, unknown>, json: boolean, recursive: boolean, drawDir?: string): Promise<number> {
  const files = await listFiles(dir, recursive);
  const outcomes: ({ result: Result } | { code: string; message: string })[] = new Array(files.length);
  await forEachWithProgress(files.length, svc.concurrency, async (i) => {
    const rel = files[i]!;
    const drawTo = drawDir ? path.join(drawDir, rel.replace(/\.[^./]+$/, '') + '.jpg') : undefined;
    try {
      outcomes[i] = { result: await runOne(svc, kind, path.join(dir, rel), fields, drawTo) };
    } catch (err) {
      outcomes[i] = describeFailure(err);
    }
  });
  let failed = 0;
  const lines: string[] = [];
  outcomes.forEach((o, i) => {
    const file = path.join(dir, files[i]!);
    if ('code' in o) failed++;
    if (json) lines.push(JSON.stringify({ file, ...('code' in o ? { error: o } : o.result) }));
    else if ('code' in o) lines.push(`${file}: ${o.code}: ${o.message}`);
    else lines.push(`${file}:`, ...formatResult(kind, o.result));
  });
  if (!json) lines.push(`${files.length} files, ${failed} failed`);
  process.stdout.write(`${lines.join('\n')}\n`);
  return failed > 0 ? 1 : 0;
}

export async function recognizeCommand(kind: Kind, argv: string[]): Promise<number> {
  let args: ParsedArgs;
  let fields: Record<string, unknown>;
  try {
    args = parseCommandLine(argv, { ...specs[kind], json: { type: 'boolean' }, recursive: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } });
    if (args.last.help) {
      process.stdout.write(usages[kind]);
      return 0;
    }
    if (args.positionals.length !== 1) throw new UsageError(`expected one input file or folder but received ${args.positionals.length}`);
    fields = fieldsFrom(kind, args);
    // The fields are the same for every file: a bad value is a usage error, said once in the service's words.
    try {
      validate(paramSchemas[kind], fields);
    } catch (err) {
      throw new UsageError(describeFailure(err).message);
    }
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    printError(`${kind}: ${err.message}\nRun imgsense ${kind} --help for usage.`);
    return 2;
  }
  const input = args.positionals[0]!;
  const json = args.last.json === true;
  const draw = typeof args.last.draw === 'string' ? args.last.draw : undefined;
  let svc: CliServices;
  try {
    svc = openServices();
  } catch (err) {
    printError(`${kind}: ${err instanceof Error ? err.message : String(err)}`);
    return 2;
  }
  try {
    if (await stat(input).then((s) => s.isDirectory(), () => false)) {
      return await runFolder(svc, kind, input, fields, json, args.last.recursive === true, draw);
    }
    const result = await runOne(svc, kind, input, fields, draw);
    process.stdout.write(json ? `${JSON.stringify(result, null, 2)}\n` : `${[`${input}:`, ...formatResult(kind, result)].join('\n')}\n`);
    return 0;
  } catch (err) {
    const { code, message } = describeFailure(err);
    printError(`${input}: ${code}: ${message}`);
    return 1;
  } finally {
    await svc.close();
  }
}
