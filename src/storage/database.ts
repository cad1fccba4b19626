import fs from 'node:fs';
import path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, Migrator, PostgresDialect, SqliteDialect } from 'kysely';
import pg from 'pg';
import { migrations } from './migrations/index.js';
import type { Tables } from './schema.js';

export interface Database {
  db: Kysely<Tables>;
  dialect: 'sqlite' | 'postgres';
  /** Where it lives, without credentials, for logs. */
  describe: string;
  close(): Promise<void>;
}

export interface DatabaseOptions {
  /** Empty: SQLite in the data dir. `postgres://…`: PostgreSQL. `sqlite:<path>`: SQLite at a path. */
  url: string;
  dataDir: string;
}

// int8 (bigint) columns hold millisecond timestamps, far inside 2^53: read them as numbers, not strings.
pg.types.setTypeParser(20, (v) => Number(v));

export function isPostgresUrl(url: string): boolean {
  return /^postgres(ql)?:\/\//i.test(url);
}

function openSqlite(file: string): Kysely<Tables> {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const sqlite = new BetterSqlite3(file);
  // It holds sealed secret keys and token hashes: owner-only, like the key files beside it.
  fs.chmodSync(file, 0o600);
  // WAL with synchronous=NORMAL: a committed transaction survives a killed process (kill -9); FULL would also
  // survive power loss at the price of an fsync per commit.
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('synchronous = NORMAL');
  sqlite.pragma('foreign_keys = ON');
  sqlite.pragma('busy_timeout = 5000');
  return new Kysely<Tables>({ dialect: new SqliteDialect({ database: sqlite }) });
}

function openPostgres(url: string): Kysely<Tables> {
  const pool = new pg.Pool({ connectionString: url, max: 10 });
  return new Kysely<Tables>({ dialect: new PostgresDialect({ pool }) });
}

function redact(url: string): string {
  return url.replace(/\/\/([^:@/]*):[^@/]*@/, '//$1:***@');
}

/** Opens the configured database and brings its schema up to date. */
export async function openDatabase(opts: DatabaseOptions): Promise<Database> {
  const url = opts.url.trim();
  const postgres = isPostgresUrl(url);
  const file = postgres ? '' : path.resolve(opts.dataDir, url.replace(/^sqlite:/i, '') || 'imgsense.db');
  const db = postgres ? openPostgres(url) : openSqlite(file);
  const migrator = new Migrator({ db, provider: { getMigrations: async () => migrations } });
  const { error, results } = await migrator.migrateToLatest();
  if (error) {
    await db.destroy();
    const failed = results?.find((r) => r.status === 'Error')?.migrationName;
    throw new Error(`Database migration ${failed ?? ''} failed: ${(error as Error).message ?? String(error)}`);
  }
  return {
    db,
    dialect: postgres ? 'postgres' : 'sqlite',
    describe: postgres ? redact(url) : file,
    close: () => db.destroy(),
  };
}
