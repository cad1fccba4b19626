import { readFile, writeFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { describeFailure, parseCommandLine, printError, readImageFile, UsageError, type FlagSpec, requireInputAndOutput } from './args.js';
import { formatFromName, openRecognitionServices } from './recognition.js';

export const segmentUsage = `Usage: imgsense segment <in> -o <out> [options]

Portrait segmentation: the person kept, the background transparent (PNG), blurred or replaced, or the mask.

Options:
  --mode MODE                cutout (default) | mask | blur | replace
  --model MODEL              selfie (default) | meet
  --background #RRGGBB       replace the background with a colour
  --background-image FILE    replace the background with an image (scaled to cover)
  --blur SIGMA               background blur for --mode blur (1 to 100, default 15)
  --feather SIGMA            softness of the mask edge in pixels (0 to 50, default 2)
  --format FORMAT            png | jpeg | webp (default: from the -o extension)

Limits come from the same environment variables as the server (docs/configuration.md).
Exit status: 0 written, 1 the image could not be read or segmented, 2 usage error.
`;

const spec: FlagSpec = {
  output: { type: 'string', short: 'o' }, mode: { type: 'string' }, model: { type: 'string' },
  background: { type: 'string' }, 'background-image': { type: 'string' }, blur: { type: 'string' },
  feather: { type: 'string' }, format: { type: 'string' }, help: { type: 'boolean', short: 'h' },
};

export async function segmentCommand(argv: string[]): Promise<number> {
  let args;
  let paths: { input: string; output: string };
  try {
    args = parseCommandLine(argv, spec);
    if (args.last.help) {
      process.stdout.write(segmentUsage);
      return 0;
    }
    paths = requireInputAndOutput(args, 'input image');
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    printError(`segment: ${err.message}\nRun imgsense segment --help for usage.`);
    return 2;
  }
  const { input, output: out } = paths;
  const fields: Record<string, unknown> = { format: args.last.format ?? formatFromName(out) };
  for (const k of ['mode', 'model', 'background', 'blur', 'feather'] as const) if (typeof args.last[k] === 'string') fields[k] = args.last[k];
  let opened;
  try {
    opened = openRecognitionServices();
  } catch (err) {
    printError(`segment: ${err instanceof Error ? err.message : String(err)}`);
    return 2;
  }
  const { services, config } = opened;
  try {
    const bytes = await readImageFile(input, config.limits.maxImageBytes);
    const bg = args.last['background-image'];
    const backgroundUpload = typeof bg === 'string' ? await readFile(bg) : undefined;
    const result = await services.segmentation.segmentSource({ kind: 'bytes', bytes }, fields, { coerce: true, ...(backgroundUpload && { backgroundUpload }) });
    await mkdir(path.dirname(out), { recursive: true });
    await writeFile(out, result.data);
    process.stdout.write(`${input} -> ${out}: ${result.width}x${result.height} ${result.format}, ${result.data.length} bytes\n`);
    return 0;
  } catch (err) {
    const { code, message } = describeFailure(err);
    printError(`${input}: ${code}: ${message}`);
    return code.startsWith('Invalid') || code === 'MissingParameter' ? 2 : 1;
  } finally {
    await services.inference.close();
  }
}
