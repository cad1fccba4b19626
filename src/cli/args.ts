import { parseArgs } from 'node:util';
import { readFile, stat } from 'node:fs/promises';
import { ConfigError, loadConfig, type Config } from '../config/env.js';
import { AppError } from '../errors/app-error.js';
import { createServices } from '../services/create.js';
import type { ProcessingService } from '../services/processing.js';
import type { VisionService } from '../services/vision/index.js';

/**
 * What the CLI commands share: an argv parser that keeps the order of the flags (processing steps run in
 * command-line order), flag-value grammars, error rendering, and the services wired from the operator's
 * environment exactly as the server wires them.
 */

/** Bad flag syntax: the command prints the message (and where to find usage) and exits 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

export type FlagSpec = Record<string, { type: 'string' | 'boolean'; short?: string }>;

export interface ParsedArgs {
  positionals: string[];
  /** Every flag in command-line order, repeated flags included; boolean flags have value undefined. */
  flags: { name: string; value: string | undefined }[];
  /** The last value of each flag (true for a boolean flag that was given). */
  last: Record<string, string | true | undefined>;
}

/** `--rotate -90` reads as a flag followed by a number, not as two flags. */
function joinNegativeNumbers(argv: string[], spec: FlagSpec): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const next = argv[i + 1];
    const name = arg.startsWith('--') ? arg.slice(2) : Object.keys(spec).find((k) => arg === `-${spec[k]!.short}`);
    if (name && spec[name]?.type === 'string' && next !== undefined && /^-(\d|\.\d)/.test(next)) {
      out.push(`--${name}=${next}`);
      i++;
    } else {
      out.push(arg);
    }
  }
  return out;
}

export function parseCommandLine(argv: string[], spec: FlagSpec): ParsedArgs {
  let tokens;
  try {
    ({ tokens } = parseArgs({ args: joinNegativeNumbers(argv, spec), options: spec, allowPositionals: true, strict: true, tokens: true }));
  } catch (err) {
    // node's own wording is clear ("Unknown option '--bogus'"); keep its first line.
    throw new UsageError((err instanceof Error ? err.message : String(err)).split('\n')[0]!.replace(/\. To specify .*$/, '.'));
  }
  const parsed: ParsedArgs = { positionals: [], flags: [], last: {} };
  for (const token of tokens) {
    if (token.kind === 'positional') parsed.positionals.push(token.value);
    if (token.kind === 'option') {
      parsed.flags.push({ name: token.name, value: token.value });
      parsed.last[token.name] = token.value ?? true;
    }
  }
  return parsed;
}

/** A number as typed; the range is the services' to check (they name the parameter and the limits). */
export function numberFlag(flag: string, value: string | undefined): number {
  if (value === undefined || !/^[-+]?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?$/i.test(value.trim())) {
    throw new UsageError(`Expected a number for --${flag} but received ${JSON.stringify(value ?? '')}`);
  }
  return Number(value);
}

/** `800x600`, `800x` or `x600`. */
export function sizeFlag(flag: string, value: string | undefined): { width?: number; height?: number } {
  const m = /^(\d+)?x(\d+)?$/i.exec(value ?? '');
  if (!m || (m[1] === undefined && m[2] === undefined)) {
    throw new UsageError(`Expected WIDTHxHEIGHT, WIDTHx or xHEIGHT (e.g. 800x600) for --${flag} but received ${JSON.stringify(value ?? '')}`);
  }
  return { ...(m[1] !== undefined && { width: Number(m[1]) }), ...(m[2] !== undefined && { height: Number(m[2]) }) };
}

/** `WxH+X+Y` (a box) or `WxH` (a size, for a smart crop). */
export function boxFlag(flag: string, value: string | undefined): { width: number; height: number; x?: number; y?: number } {
  const m = /^(\d+)x(\d+)(?:\+(\d+)\+(\d+))?$/i.exec(value ?? '');
  if (!m) {
    throw new UsageError(`Expected WxH+X+Y or WxH (e.g. 400x300+10+20) for --${flag} but received ${JSON.stringify(value ?? '')}`);
  }
  const box = { width: Number(m[1]), height: Number(m[2]) };
  return m[3] === undefined ? box : { ...box, x: Number(m[3]), y: Number(m[4]) };
}

/** One failure, as every command prints it: the catalogue code and its public message, never a stack. */
export function describeFailure(err: unknown): { code: string; message: string } {
  if (err instanceof AppError) return { code: err.code, message: err.message };
  const errno = err as NodeJS.ErrnoException | undefined;
  if (errno && typeof errno.code === 'string' && typeof errno.syscall === 'string') {
    // "ENOENT: no such file or directory, open '/x'" -> "no such file or directory"
    const text = errno.message.replace(/^[A-Z0-9_]+: /, '').replace(/, \w+ '.*'$/, '');
    return { code: errno.code, message: text };
  }
  return { code: 'InternalError', message: err instanceof Error ? err.message : String(err) };
}

/** Commands that read one input and write to `-o <out>`: both present, or a usage error naming what is missing. */
export function requireInputAndOutput(args: ParsedArgs, input: string): { input: string; output: string } {
  if (args.positionals.length !== 1) throw new UsageError(`expected one ${input} but received ${args.positionals.length}`);
  const output = args.last.output;
  if (typeof output !== 'string' || output === '') throw new UsageError('-o <out> is required');
  return { input: args.positionals[0]!, output };
}

/** The operator's configuration; a bad value is a usage error naming the variable, as at server start. */
export function loadCliConfig(env: NodeJS.ProcessEnv = process.env): Config {
  try {
    return loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) throw new UsageError(`invalid configuration: ${err.message}`);
    throw err;
  }
}

export interface CliServices {
  config: Config;
  processing: ProcessingService;
  /** How many images the service runs at once; the CLI keeps exactly that many files in flight. */
  concurrency: number;
  vision: VisionService;
  /** Releases the model sessions (recognition commands), so the process can exit. */
  close(): Promise<void>;
}

/**
 * The services as `imgsense serve` builds them (src/cli/serve.ts createServices), from the same environment,
 * so the operator's limits bind the CLI too.
 */
export function openServices(env: NodeJS.ProcessEnv = process.env): CliServices {
  const config = loadCliConfig(env);
  const { processing, concurrency, vision, inference } = createServices(config);
  return { config, processing, concurrency, vision, close: () => inference.close() };
}

export function printError(line: string): void {
  process.stderr.write(`imgsense: ${line}\n`);
}

/**
 * Reads an image file for the input gate. A file past the operator's byte limit is refused from its size alone,
 * with the gate's own message, so a stray multi-gigabyte file is never read into memory.
 */
export async function readImageFile(file: string, maxImageBytes: number): Promise<Buffer> {
  const { size } = await stat(file);
  if (size > maxImageBytes) {
    throw new AppError('FailedOperation.ImageSizeExceed', `Expected at most ${maxImageBytes} bytes for image but received ${size}`);
  }
  return readFile(file);
}
