import { describeFailure, openServices, parseCommandLine, printError, readImageFile, UsageError, type FlagSpec } from './args.js';

export const infoUsage = `Usage: imgsense info <file> [--json] [--gps]

Describes an image: format, stored and oriented size, EXIF orientation, channels, frames, colour, metadata.

Options:
  --json    print the description as one JSON object (the same fields as POST /v1/images/info)
  --gps     include the EXIF GPS position (left out by default: it is personal data)

Limits come from the same environment variables as the server (docs/configuration.md).
Exit status: 0 described, 1 the file could not be read or decoded, 2 usage error.
`;

const spec: FlagSpec = {
  json: { type: 'boolean' },
  gps: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
};

/** "orientedWidth" -> "oriented width", nested keys joined with a dot: "exif.focal length". */
const label = (key: string) => key.replace(/([a-z0-9])([A-Z])/g, '$1 $2').toLowerCase();

function lines(value: Record<string, unknown>, prefix = ''): [string, string][] {
  const out: [string, string][] = [];
  for (const [key, v] of Object.entries(value)) {
    if (v === undefined) continue;
    const name = prefix + label(key);
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) out.push(...lines(v as Record<string, unknown>, `${name}.`));
    else out.push([name, Array.isArray(v) ? v.join(', ') : String(v)]);
  }
  return out;
}

/** key: value lines, values aligned. */
export function formatInfo(info: object): string {
  const rows = lines(info as Record<string, unknown>);
  const width = Math.max(...rows.map(([k]) => k.length)) + 1;
  return rows.map(([k, v]) => `${`${k}:`.padEnd(width)} ${v}`).join('\n') + '\n';
}

export async function infoCommand(argv: string[]): Promise<number> {
  let file: string;
  let json: boolean;
  let gps: boolean;
  try {
    const args = parseCommandLine(argv, spec);
    if (args.last.help) {
      process.stdout.write(infoUsage);
      return 0;
    }
    if (args.positionals.length !== 1) throw new UsageError(`expected one image file but received ${args.positionals.length}`);
    file = args.positionals[0]!;
    json = args.last.json === true;
    gps = args.last.gps === true;
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    printError(`info: ${err.message}\nRun imgsense info --help for usage.`);
    return 2;
  }
  let svc;
  try {
    svc = openServices();
  } catch (err) {
    printError(`info: ${err instanceof Error ? err.message : String(err)}`);
    return 2;
  }
  try {
    const bytes = await readImageFile(file, svc.config.limits.maxImageBytes);
    const info = await svc.processing.info({ kind: 'bytes', bytes }, { includeGps: gps });
    process.stdout.write(json ? `${JSON.stringify(info, null, 2)}\n` : formatInfo(info));
    return 0;
  } catch (err) {
    const { code, message } = describeFailure(err);
    printError(`${file}: ${code}: ${message}`);
    return 1;
  }
}
