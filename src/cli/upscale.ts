import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { createServices } from '../services/create.js';
import { describeFailure, loadCliConfig, numberFlag, parseCommandLine, printError, readImageFile, UsageError, type FlagSpec, type ParsedArgs, requireInputAndOutput } from './args.js';
import { ProgressBar } from './progress.js';

export const upscaleUsage = `Usage: imgsense upscale <in> -o <out> [options]

ESRGAN super-resolution of one image, in this process (no server, no job queue), with a progress bar in tiles.

Options:
  --scale N                     2, 3 or 4 (default 2)
  --model NAME                  slim | medium | thick (default: IMGSENSE_UPSCALE_DEFAULT_MODEL, slim)
  --format FORMAT               jpeg | png | webp | avif | gif | tiff (default: the input's format)
  --quality N                   1 to 100

Limits come from the same environment variables as the server (IMGSENSE_UPSCALE_MAX_OUTPUT_PIXELS and the
image limits, docs/configuration.md). Exit status: 0 done, 1 failed, 2 usage error.
`;

const spec: FlagSpec = {
  output: { type: 'string', short: 'o' }, scale: { type: 'string' }, model: { type: 'string' },
  format: { type: 'string' }, quality: { type: 'string' }, help: { type: 'boolean', short: 'h' },
};

/** Flags -> the fields the HTTP API takes; the service checks the values and names them. */
function fieldsFromFlags(args: ParsedArgs): Record<string, unknown> {
  const { scale, model, format, quality } = args.last;
  const output: Record<string, unknown> = {};
  if (format !== undefined) output.format = format;
  if (quality !== undefined) output.quality = numberFlag('quality', quality as string);
  return {
    ...(scale !== undefined && { scale: numberFlag('scale', scale as string) }),
    ...(model !== undefined && { model }),
    ...(Object.keys(output).length > 0 && { output }),
  };
}

export async function upscaleCommand(argv: string[]): Promise<number> {
  let args: ParsedArgs;
  let fields: Record<string, unknown>;
  let paths: { input: string; output: string };
  try {
    args = parseCommandLine(argv, spec);
    if (args.last.help) {
      process.stdout.write(upscaleUsage);
      return 0;
    }
    paths = requireInputAndOutput(args, 'input file');
    fields = fieldsFromFlags(args);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    printError(`upscale: ${err.message}\nRun imgsense upscale --help for usage.`);
    return 2;
  }
  const { input, output: out } = paths;
  let services: ReturnType<typeof createServices>;
  try {
    services = createServices(loadCliConfig());
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    printError(`upscale: ${err.message}`);
    return 2;
  }
  const { upscale } = services;
  try {
    const bytes = await readImageFile(input, services.upscale.opts.limits.maxImageBytes);
    const prep = await upscale.prepare({ kind: 'bytes', bytes }, fields);
    const bar = new ProgressBar(prep.tiles, process.stderr, 'tiles');
    const result = await upscale.run(prep, { onProgress: () => bar.tick() });
    bar.finish();
    await mkdir(path.dirname(path.resolve(out)), { recursive: true });
    await writeFile(out, result.data);
    process.stdout.write(`${input} -> ${out}: ${prep.width}x${prep.height} -> ${result.width}x${result.height} ${result.format} (esrgan-${prep.params.model} x${prep.params.scale}, ${prep.tiles} tiles)\n`);
    return 0;
  } catch (err) {
    const { code, message } = describeFailure(err);
    printError(`${input}: ${code}: ${message}`);
    // A bad flag value is a usage error, in the services' words.
    return code.startsWith('InvalidParameter') || code === 'MissingParameter' ? 2 : 1;
  } finally {
    await services.inference.close();
    await services.jobInference.close();
  }
}
