import type { Generated } from 'kysely';

/**
 * The tables, as Kysely sees them. Portable types only: ids are text, timestamps are integer milliseconds
 * (bigint in PostgreSQL, read back as numbers), flags and JSON are text, so one set of queries serves both dialects.
 */
export interface Tables {
  apps: AppsTable;
  app_keys: AppKeysTable;
  access_tokens: AccessTokensTable;
  usage_records: UsageRecordsTable;
  jobs: JobsTable;
}

export interface AppsTable {
  id: string;
  name: string;
  status: 'active' | 'suspended';
  /** JSON array of scope patterns, e.g. ["*"] or ["vision.*", "images.process"]. */
  scopes: string;
  /** JSON object { qps?, concurrency?, daily?, monthly? }. */
  limits: string;
  created_at: number;
  updated_at: number;
}

export interface AppKeysTable {
  secret_id: string;
  app_id: string;
  /** The secret key sealed with the server master key (needed to verify HMAC signatures). */
  secret_sealed: string;
  /** SHA-256 of the secret key, for API-key lookups that must not decrypt every key. */
  secret_hash: string;
  status: 'active' | 'disabled';
  created_at: number;
  last_used_at: number | null;
}

export interface AccessTokensTable {
  id: string;
  app_id: string;
  secret_id: string;
  /** SHA-256 of the token; the token itself is never stored. */
  token_hash: string;
  created_at: number;
  expires_at: number;
  revoked_at: number | null;
}

export interface UsageRecordsTable {
  /** Random; rows are ordered by created_at (autoincrement is not portable). */
  id: string;
  request_id: string;
  app_id: string;
  secret_id: string | null;
  action: string;
  units: number;
  /** 'success' | 'client_error' | 'server_error' */
  outcome: string;
  status: number;
  latency_ms: number;
  created_at: number;
}

// Async jobs (issue 6).
/** The jobs table (migration 002-jobs). Timestamps are epoch ms; params and result are JSON text. */
export interface JobsTable {
  id: string;
  app_id: string;
  kind: string;
  /** queued | running | succeeded | failed | cancelled */
  state: 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled';
  params: string;
  tiles_done: Generated<number>;
  tiles_total: number;
  attempts: Generated<number>;
  created_at: number;
  started_at: number | null;
  finished_at: number | null;
  expires_at: number | null;
  error_code: string | null;
  error_message: string | null;
  result: string | null;
}
