import path from 'node:path';
import { defaultLimits, type Limits } from './limits.js';

/**
 * The environment, parsed and validated once at start. A bad value stops the server with a message naming
 * the variable, what is allowed and what it got. Every variable here is documented in docs/configuration.md
 * (a test checks that).
 */
export interface Config {
  host: string;
  port: number;
  dataDir: string;
  logLevel: LogLevel;
  limits: Limits;
  /** Hosts, IPs or CIDRs that URL fetching may reach even when they are private or loopback. */
  fetchAllowHosts: string[];
  /** libvips threads per image (sharp.concurrency); 0 keeps sharp's default. */
  sharpConcurrency: number;
  /** Images processed at once; more wait in a queue. */
  processingConcurrency: number;
  /** How long SIGTERM waits for in-flight requests before closing anyway. */
  shutdownTimeoutMs: number;
  inference: {
    /** onnxruntime intra-op threads per session; 0 = the number of cores. */
    threads: number;
    /** Worker threads running models; 0 = cores / threads (at least 1). */
    workers: number;
    /** Runs of one model in flight; 0 = what the workers hold (one running and, single-threaded, one queued each). */
    concurrencyPerModel: number;
    /** Micro-batching window for models with a dynamic batch axis, ms; 0 disables it. */
    batchWindowMs: number;
    maxBatch: number;
    provider: 'cpu' | 'cuda';
    /** Models whose sessions are created and warmed at start. */
    warm: string[];
  };
  /** Empty: SQLite in the data dir; postgres://… switches to PostgreSQL. */
  databaseUrl: string;
  auth: AuthConfig;
  /** Metering and billing: how often usage lines are written, and the operator's price table (empty: defaults). */
  usage: { flushMs: number; pricesFile: string };
  /** Face detection (issue 5): most faces per image, and the size below which a face is flagged tooSmall. */
  faces: { maxFaces: number; minFaceSize: number };
  /** Recognition (/v1/vision/*): moderation thresholds on 0..1 scores, frames judged per animation. */
  vision: { moderationBlock: number; moderationReview: number; moderationFrames: number };
  /** Super-resolution and its job queue (docs/configuration.md, "Upscaling and jobs"). */
  upscale: {
    defaultModel: 'slim' | 'medium' | 'thick';
    maxOutputPixels: number;
    /** Inputs up to this many pixels are answered in the request; larger ones become jobs. */
    syncMaxPixels: number;
    tileSize: number;
  };
  jobs: {
    concurrency: number;
    /** onnxruntime threads of a job's model runs; 0 = one fewer than the cores (at least 1). */
    threads: number;
    resultTtlSeconds: number;
    maxQueued: number;
  };
}

export interface AuthConfig {
  /** 'off' serves every call as the default app, unauthenticated (local experiments, benchmarks). */
  mode: 'on' | 'off';
  /** Operator key for /v1/admin; empty: generated at first start into <data dir>/admin.key. */
  adminKey: string;
  /** 32 bytes, base64 or hex, sealing stored secret keys; empty: generated into <data dir>/master.key. */
  masterKey: string;
  /** DeepStack-style API keys (X-Api-Key header or api_key field). */
  apiKeys: boolean;
  tokenTtlSeconds: number;
  signatureMaxSkewSeconds: number;
}

export const logLevels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof logLevels)[number];

export class ConfigError extends Error {
  override name = 'ConfigError';
}

type Env = Record<string, string | undefined>;

/** The env variable of each limit, so docs and validation share one table. */
export const limitVariables: Record<keyof Limits, string> = {
  maxImageBytes: 'IMGSENSE_MAX_IMAGE_BYTES',
  maxBodyBytes: 'IMGSENSE_MAX_BODY_BYTES',
  maxWidth: 'IMGSENSE_MAX_WIDTH',
  maxHeight: 'IMGSENSE_MAX_HEIGHT',
  maxPixels: 'IMGSENSE_MAX_PIXELS',
  minDimension: 'IMGSENSE_MIN_DIMENSION',
  maxFrames: 'IMGSENSE_MAX_FRAMES',
  fetchTimeoutMs: 'IMGSENSE_FETCH_TIMEOUT_MS',
  fetchMaxRedirects: 'IMGSENSE_FETCH_MAX_REDIRECTS',
  maxOperations: 'IMGSENSE_MAX_OPERATIONS',
  processTimeoutMs: 'IMGSENSE_PROCESS_TIMEOUT_MS',
  maxOutputDimension: 'IMGSENSE_MAX_OUTPUT_DIMENSION',
  maxQueue: 'IMGSENSE_MAX_QUEUE',
};

function integer(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const value = Number(raw.trim());
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(`Expected integer between ${min} and ${max} for ${name} but received ${JSON.stringify(raw)}`);
  }
  return value;
}

function fraction(env: Env, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const value = Number(raw.trim());
  if (!/^\s*[0-9.]+\s*$/.test(raw) || !Number.isFinite(value) || value < 0 || value > 1) {
    throw new ConfigError(`Expected number between 0 and 1 for ${name} but received ${JSON.stringify(raw)}`);
  }
  return value;
}

function oneOf<T extends string>(env: Env, name: string, allowed: readonly T[], fallback: T): T {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const value = raw.trim().toLowerCase() as T;
  if (!allowed.includes(value)) {
    throw new ConfigError(`Expected one of ${allowed.join(', ')} for ${name} but received ${JSON.stringify(raw)}`);
  }
  return value;
}

function list(env: Env, name: string): string[] {
  const raw = env[name];
  if (raw === undefined) return [];
  const items = raw.split(',').map((s) => s.trim()).filter(Boolean);
  for (const item of items) {
    if (!/^[A-Za-z0-9.:_\-/\[\]]+$/.test(item)) {
      throw new ConfigError(`Expected a comma-separated list of host names, IPs or CIDRs for ${name} but received ${JSON.stringify(item)}`);
    }
  }
  return items;
}

function modelList(env: Env, name: string): string[] {
  const items = (env[name] ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  for (const item of items) {
    if (!/^[a-z0-9][a-z0-9._-]{0,63}$/.test(item)) {
      throw new ConfigError(`Expected a comma-separated list of model ids (see imgsense models list) for ${name} but received ${JSON.stringify(item)}`);
    }
  }
  return items;
}

function host(env: Env): string {
  const raw = (env.HOST ?? '').trim();
  if (raw === '') return '127.0.0.1';
  if (!/^[A-Za-z0-9.:\-\[\]]+$/.test(raw)) {
    throw new ConfigError(`Expected a host name or IP address for HOST but received ${JSON.stringify(raw)}`);
  }
  return raw;
}

export function loadConfig(env: Env = process.env, cwd = process.cwd()): Config {
  const limits = {} as Limits;
  for (const key of Object.keys(defaultLimits) as (keyof Limits)[]) {
    const min = key === 'fetchMaxRedirects' ? 0 : 1;
    limits[key] = integer(env, limitVariables[key], defaultLimits[key], min, Number.MAX_SAFE_INTEGER);
  }
  if (limits.maxBodyBytes < limits.maxImageBytes) {
    throw new ConfigError(
      `Expected IMGSENSE_MAX_BODY_BYTES to be at least IMGSENSE_MAX_IMAGE_BYTES (${limits.maxImageBytes}) but received ${limits.maxBodyBytes}`,
    );
  }
  const dataDir = (env.IMGSENSE_DATA_DIR ?? '').trim() || './data';
  return {
    host: host(env),
    port: integer(env, 'PORT', 8080, 0, 65535),
    dataDir: path.resolve(cwd, dataDir),
    logLevel: oneOf(env, 'LOG_LEVEL', logLevels, 'info'),
    limits,
    fetchAllowHosts: list(env, 'IMGSENSE_FETCH_ALLOW_HOSTS'),
    sharpConcurrency: integer(env, 'IMGSENSE_SHARP_CONCURRENCY', 0, 0, 64),
    processingConcurrency: integer(env, 'IMGSENSE_PROCESSING_CONCURRENCY', 0, 0, 256),
    shutdownTimeoutMs: integer(env, 'IMGSENSE_SHUTDOWN_TIMEOUT_MS', 10_000, 0, 600_000),
    inference: {
      threads: integer(env, 'IMGSENSE_INFERENCE_THREADS', 1, 0, 64),
      workers: integer(env, 'IMGSENSE_INFERENCE_WORKERS', 0, 0, 64),
      concurrencyPerModel: integer(env, 'IMGSENSE_INFERENCE_CONCURRENCY', 0, 0, 64),
      batchWindowMs: integer(env, 'IMGSENSE_BATCH_WINDOW_MS', 2, 0, 1000),
      maxBatch: integer(env, 'IMGSENSE_MAX_BATCH', 8, 1, 256),
      provider: oneOf(env, 'IMGSENSE_INFERENCE_PROVIDER', ['cpu', 'cuda'] as const, 'cpu'),
      warm: modelList(env, 'IMGSENSE_WARM_MODELS'),
    },
    databaseUrl: databaseUrl(env),
    auth: {
      mode: oneOf(env, 'IMGSENSE_AUTH', ['on', 'off'] as const, 'on'),
      adminKey: secret(env, 'IMGSENSE_ADMIN_KEY', 24),
      masterKey: masterKey(env),
      apiKeys: oneOf(env, 'IMGSENSE_API_KEY_AUTH', ['on', 'off'] as const, 'off') === 'on',
      tokenTtlSeconds: integer(env, 'IMGSENSE_TOKEN_TTL_SECONDS', 30 * 24 * 3600, 60, 10 * 365 * 24 * 3600),
      signatureMaxSkewSeconds: integer(env, 'IMGSENSE_SIGNATURE_MAX_SKEW_SECONDS', 300, 1, 3600),
    },
    usage: {
      flushMs: integer(env, 'IMGSENSE_USAGE_FLUSH_MS', 200, 1, 60_000),
      pricesFile: (env.IMGSENSE_PRICES_FILE ?? '').trim() === '' ? '' : path.resolve(cwd, env.IMGSENSE_PRICES_FILE!.trim()),
    },
    faces: {
      maxFaces: integer(env, 'IMGSENSE_MAX_FACES', 120, 1, 1000),
      minFaceSize: integer(env, 'IMGSENSE_FACE_MIN_SIZE', 34, 1, 10_000),
    },
    vision: {
      moderationBlock: fraction(env, 'IMGSENSE_MODERATION_BLOCK', 0.7),
      moderationReview: fraction(env, 'IMGSENSE_MODERATION_REVIEW', 0.4),
      moderationFrames: integer(env, 'IMGSENSE_MODERATION_FRAMES', 5, 1, 50),
    },
    upscale: {
      defaultModel: oneOf(env, 'IMGSENSE_UPSCALE_DEFAULT_MODEL', ['slim', 'medium', 'thick'] as const, 'slim'),
      maxOutputPixels: integer(env, 'IMGSENSE_UPSCALE_MAX_OUTPUT_PIXELS', 16_777_216, 1, Number.MAX_SAFE_INTEGER),
      syncMaxPixels: integer(env, 'IMGSENSE_UPSCALE_SYNC_MAX_PIXELS', 65_536, 0, Number.MAX_SAFE_INTEGER),
      tileSize: integer(env, 'IMGSENSE_UPSCALE_TILE_SIZE', 128, 16, 1024),
    },
    jobs: {
      concurrency: integer(env, 'IMGSENSE_JOB_CONCURRENCY', 1, 1, 64),
      threads: integer(env, 'IMGSENSE_JOB_THREADS', 0, 0, 64),
      resultTtlSeconds: integer(env, 'IMGSENSE_JOB_RESULT_TTL_SECONDS', 86_400, 1, 31_536_000),
      maxQueued: integer(env, 'IMGSENSE_JOB_MAX_QUEUED', 100, 1, 1_000_000),
    },
  };
}

function databaseUrl(env: Env): string {
  const raw = (env.IMGSENSE_DATABASE_URL ?? '').trim();
  if (raw !== '' && !/^(postgres(ql)?:\/\/|sqlite:)/i.test(raw)) {
    throw new ConfigError(`Expected postgres://…, postgresql://… or sqlite:<path> for IMGSENSE_DATABASE_URL but received a value starting ${JSON.stringify(raw.slice(0, 11))}`);
  }
  return raw;
}

/** Secrets are never echoed back in errors: only their length is. */
function secret(env: Env, name: string, minLength: number): string {
  const raw = (env[name] ?? '').trim();
  if (raw !== '' && raw.length < minLength) {
    throw new ConfigError(`Expected at least ${minLength} characters for ${name} but received ${raw.length}`);
  }
  return raw;
}

function masterKey(env: Env): string {
  const raw = (env.IMGSENSE_MASTER_KEY ?? '').trim();
  if (raw === '') return '';
  const bytes = /^[0-9a-f]{64}$/i.test(raw) ? Buffer.from(raw, 'hex') : Buffer.from(raw, 'base64');
  if (bytes.length !== 32) {
    throw new ConfigError(`Expected 32 bytes as 64 hex digits or base64 for IMGSENSE_MASTER_KEY but received ${bytes.length} bytes`);
  }
  return bytes.toString('base64');
}
