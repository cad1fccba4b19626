import { mkdir, readdir, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseProcessRequest, type ProcessRequest } from '../services/processing.js';
import {
  boxFlag, describeFailure, numberFlag, openServices, parseCommandLine, printError, readImageFile, sizeFlag, UsageError,
  type CliServices, type FlagSpec, type ParsedArgs, requireInputAndOutput } from './args.js';
import { forEachWithProgress } from './progress.js';

export const processUsage = `Usage: imgsense process <in> -o <out> [options]

<in> is an image file or a folder of images; <out> is a file, or a folder (created if missing).
Operations run in the order given on the command line.

Operations:
  --resize WxH | Wx | xH        scale to fit the box (800x600, 800x or x600)
    --fit MODE                  cover | contain | fill | inside | outside (default inside)
    --enlarge                   allow the result to be larger than the input
  --crop WxH+X+Y                cut out a box
  --crop WxH --smart STRATEGY   smart crop to a size: attention | entropy
  --rotate DEG                  rotate clockwise
  --flip                        mirror vertically
  --flop                        mirror horizontally
  --blur SIGMA                  gaussian blur (0.3 to 100)
  --sharpen                     unsharp mask
  --grayscale                   shades of grey
  --normalize                   stretch the contrast
  --gamma G                     gamma correction (1 to 3)
  --watermark TEXT              overlay text in the bottom-right corner
  --strip                       drop EXIF, XMP, IPTC and ICC metadata
  --ops JSON                    append operations as the API takes them, e.g. '[{"op":"blur","sigma":3}]'

Output:
  --format FORMAT               jpeg | png | webp | avif | gif | tiff (default: the input's format)
  --quality N                   1 to 100
  --effort N                    CPU spent on compression (webp 0-6, avif 0-9, png/gif 1-10)
  --progressive                 progressive JPEG, interlaced PNG/GIF
  --lossless                    lossless WebP/AVIF

Folders:
  --recursive                   include sub-folders (mirrored under <out>); hidden files are always skipped

Limits come from the same environment variables as the server (docs/configuration.md).
Exit status: 0 all files processed, 1 some failed, 2 usage error.
`;

const spec: FlagSpec = {
  output: { type: 'string', short: 'o' },
  resize: { type: 'string' }, fit: { type: 'string' }, enlarge: { type: 'boolean' },
  crop: { type: 'string' }, smart: { type: 'string' },
  rotate: { type: 'string' }, flip: { type: 'boolean' }, flop: { type: 'boolean' },
  blur: { type: 'string' }, sharpen: { type: 'boolean' }, grayscale: { type: 'boolean' },
  normalize: { type: 'boolean' }, gamma: { type: 'string' }, strip: { type: 'boolean' },
  watermark: { type: 'string' }, ops: { type: 'string' },
  format: { type: 'string' }, quality: { type: 'string' }, effort: { type: 'string' },
  progressive: { type: 'boolean' }, lossless: { type: 'boolean' },
  recursive: { type: 'boolean' }, help: { type: 'boolean', short: 'h' },
};

type Op = Record<string, unknown>;

/** Flags -> the same { operations, output } body the HTTP API takes. Only syntax is checked here. */
export function requestFromFlags(args: ParsedArgs): { operations: unknown[]; output: Record<string, unknown> } {
  const operations: unknown[] = [];
  const resizes: Op[] = [];
  const crops: Op[] = [];
  for (const { name, value } of args.flags) {
    switch (name) {
      case 'resize': { const op = { op: 'resize', ...sizeFlag(name, value) }; resizes.push(op); operations.push(op); break; }
      case 'crop': { const op = { op: 'crop', ...boxFlag(name, value) }; crops.push(op); operations.push(op); break; }
      case 'rotate': operations.push({ op: 'rotate', angle: numberFlag(name, value) }); break;
      case 'blur': operations.push({ op: 'blur', sigma: numberFlag(name, value) }); break;
      case 'gamma': operations.push({ op: 'gamma', gamma: numberFlag(name, value) }); break;
      case 'watermark': operations.push({ op: 'watermark', text: value }); break;
      case 'strip': operations.push({ op: 'strip-metadata' }); break;
      case 'flip': case 'flop': case 'sharpen': case 'grayscale': case 'normalize': operations.push({ op: name }); break;
      case 'ops': {
        let list: unknown;
        try {
          list = JSON.parse(value ?? '');
        } catch (err) {
          throw new UsageError(`Expected a JSON array of operations for --ops but received invalid JSON (${(err as Error).message})`);
        }
        if (!Array.isArray(list)) throw new UsageError('Expected a JSON array of operations for --ops but received something else');
        operations.push(...list);
        break;
      }
    }
  }
  const { fit, enlarge, smart } = args.last;
  if ((fit !== undefined || enlarge !== undefined) && resizes.length === 0) throw new UsageError('--fit and --enlarge modify --resize, which was not given');
  for (const op of resizes) Object.assign(op, fit !== undefined && { fit }, enlarge !== undefined && { enlarge: true });
  if (smart !== undefined) {
    if (crops.length === 0) throw new UsageError('--smart modifies --crop WxH, which was not given');
    if (crops.some((op) => op.x !== undefined)) throw new UsageError('--smart takes --crop WxH (a size), not WxH+X+Y (a box)');
    for (const op of crops) op.strategy = smart;
  }
  const output: Record<string, unknown> = {};
  const { format, quality, effort, progressive, lossless } = args.last;
  if (format !== undefined) output.format = format;
  if (quality !== undefined) output.quality = numberFlag('quality', quality as string);
  if (effort !== undefined) output.effort = numberFlag('effort', effort as string);
  if (progressive) output.progressive = true;
  if (lossless) output.lossless = true;
  return { operations, output };
}

const extension = (format: string) => (format === 'jpeg' ? 'jpg' : format);
const isDir = (p: string) => stat(p).then((s) => s.isDirectory(), () => false);

interface Outcome { bytesIn: number; bytesOut: number; width: number; height: number; format: string; target: string }

/** One file through the services; `target` maps the result's format to where it is written. */
async function processFile(svc: CliServices, body: ProcessRequest, file: string, target: (format: string) => string): Promise<Outcome> {
  const bytes = await readImageFile(file, svc.config.limits.maxImageBytes);
  const result = await svc.processing.process({ kind: 'bytes', bytes }, body);
  const out = target(result.format);
  await mkdir(path.dirname(out), { recursive: true });
  await writeFile(out, result.data);
  return { bytesIn: bytes.length, bytesOut: result.data.length, width: result.width, height: result.height, format: result.format, target: out };
}

/** Regular files (symlinks to them included), hidden ones skipped, as paths relative to `root`, sorted. */
async function listImages(root: string, recursive: boolean, skipDir: string, rel = ''): Promise<string[]> {
  const entries = await readdir(path.join(root, rel), { withFileTypes: true });
  const found: string[] = [];
  for (const entry of entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    if (entry.name.startsWith('.')) continue;
    const relPath = path.join(rel, entry.name);
    const full = path.join(root, relPath);
    if (entry.isDirectory()) {
      if (recursive && path.resolve(full) !== skipDir) found.push(...(await listImages(root, recursive, skipDir, relPath)));
    } else if (entry.isFile() || (entry.isSymbolicLink() && (await stat(full).then((s) => s.isFile(), () => false)))) {
      found.push(relPath);
    }
  }
  return found;
}

async function processFolder(svc: CliServices, body: ProcessRequest, inDir: string, outDir: string, recursive: boolean): Promise<number> {
  if (path.resolve(inDir) === path.resolve(outDir)) throw new UsageError('the output folder must differ from the input folder');
  if (!(await isDir(outDir)) && (await stat(outDir).then(() => true, () => false))) {
    throw new UsageError(`${outDir} exists and is not a folder; a folder input needs a folder output`);
  }
  await mkdir(outDir, { recursive: true });
  const files = await listImages(inDir, recursive, path.resolve(outDir));
  // a.jpg and a.png would both become a.webp: such names keep their whole name (a.jpg.webp, a.png.webp).
  const stems = new Map<string, number>();
  const stem = (rel: string) => rel.slice(0, rel.length - path.extname(rel).length);
  for (const rel of files) stems.set(stem(rel), (stems.get(stem(rel)) ?? 0) + 1);
  const targetFor = (rel: string) => (format: string) =>
    path.join(outDir, `${stems.get(stem(rel))! > 1 ? rel : stem(rel)}.${extension(format)}`);

  const outcomes: (Outcome | { code: string; message: string })[] = new Array(files.length);
  await forEachWithProgress(files.length, svc.concurrency, async (i) => {
    const rel = files[i]!;
    try {
      outcomes[i] = await processFile(svc, body, path.join(inDir, rel), targetFor(rel));
    } catch (err) {
      outcomes[i] = describeFailure(err);
    }
  });

  let bytesIn = 0;
  let bytesOut = 0;
  const failures: string[] = [];
  outcomes.forEach((o, i) => {
    if ('code' in o) failures.push(`${files[i]}: ${o.code}: ${o.message}`);
    else (bytesIn += o.bytesIn), (bytesOut += o.bytesOut);
  });
  const saved = bytesIn > 0 ? ((1 - bytesOut / bytesIn) * 100).toFixed(1) : '0.0';
  const lines = [
    `processed ${files.length} files, ${failures.length} failed, ${bytesIn} bytes in, ${bytesOut} bytes out, saved ${saved}%`,
    ...failures,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  return failures.length > 0 ? 1 : 0;
}

export async function processCommand(argv: string[]): Promise<number> {
  let args: ParsedArgs;
  let body: ProcessRequest;
  let paths: { input: string; output: string };
  try {
    args = parseCommandLine(argv, spec);
    if (args.last.help) {
      process.stdout.write(processUsage);
      return 0;
    }
    paths = requireInputAndOutput(args, 'input file or folder');
    body = requestFromFlags(args);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    printError(`process: ${err.message}\nRun imgsense process --help for usage.`);
    return 2;
  }
  const { input, output: out } = paths;
  let svc: CliServices;
  try {
    svc = openServices();
    // The request is the same for every file, so a bad value is a usage error, reported once in the services' words.
    parseProcessRequest(body, svc.config.limits);
  } catch (err) {
    if (err instanceof UsageError) printError(`process: ${err.message}`);
    else printError(`${input}: ${Object.values(describeFailure(err)).join(': ')}`);
    return 2;
  }
  try {
    if (await isDir(input)) return await processFolder(svc, body, input, out, args.last.recursive === true);
    const intoDir = out.endsWith('/') || out.endsWith(path.sep) || (await isDir(out));
    const name = path.basename(input, path.extname(input));
    const done = await processFile(svc, body, input, (format) => (intoDir ? path.join(out, `${name}.${extension(format)}`) : out));
    process.stdout.write(`${input} -> ${done.target}: ${done.width}x${done.height} ${done.format}, ${done.bytesIn} -> ${done.bytesOut} bytes\n`);
    return 0;
  } catch (err) {
    if (err instanceof UsageError) {
      printError(`process: ${err.message}`);
      return 2;
    }
    const { code, message } = describeFailure(err);
    printError(`${input}: ${code}: ${message}`);
    return 1;
  }
}
