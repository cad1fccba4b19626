import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';

/** The server that test databases are created on; each run makes its own database and drops it. */
export const postgresAdminUrl = process.env.IMGSENSE_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

export interface TestDatabase {
  kind: 'sqlite' | 'postgres';
  /** What IMGSENSE_DATABASE_URL would be. */
  url: string;
  dataDir: string;
  drop(): Promise<void>;
}

let reachable: Promise<string | undefined> | undefined;

/** undefined when PostgreSQL answers, else why not. */
export function postgresProblem(): Promise<string | undefined> {
  reachable ??= (async () => {
    const client = new pg.Client({ connectionString: postgresAdminUrl, connectionTimeoutMillis: 3000 });
    try {
      await client.connect();
      await client.query('select 1');
      return undefined;
    } catch (error) {
      return (error as Error).message || String(error);
    } finally {
      await client.end().catch(() => {});
    }
  })();
  return reachable;
}

async function adminQuery(text: string): Promise<void> {
  const client = new pg.Client({ connectionString: postgresAdminUrl });
  await client.connect();
  try {
    await client.query(text);
  } finally {
    await client.end();
  }
}

export async function createTestDatabase(kind: 'sqlite' | 'postgres'): Promise<TestDatabase> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), `imgsense-${kind}-`));
  const cleanDir = () => fs.rmSync(dataDir, { recursive: true, force: true });
  if (kind === 'sqlite') return { kind, url: '', dataDir, drop: async () => cleanDir() };
  const name = `imgsense_test_${process.pid}_${randomBytes(4).toString('hex')}`;
  await adminQuery(`create database ${name}`);
  const url = new URL(postgresAdminUrl);
  url.pathname = `/${name}`;
  return {
    kind,
    url: url.toString(),
    dataDir,
    drop: async () => {
      cleanDir();
      await adminQuery(`drop database if exists ${name} with (force)`);
    },
  };
}

/**
 * The database kinds a suite runs against: SQLite always, PostgreSQL when it answers. When it does not, the
 * suite says so loudly; with IMGSENSE_REQUIRE_POSTGRES=1 (set by .ci/run) that is a failure instead.
 */
export async function databaseKinds(suite: string): Promise<{ kind: 'sqlite' | 'postgres'; skip: string | false }[]> {
  const problem = await postgresProblem();
  if (problem && process.env.IMGSENSE_REQUIRE_POSTGRES === '1') {
    throw new Error(`PostgreSQL at ${postgresAdminUrl} is required (IMGSENSE_REQUIRE_POSTGRES=1) but: ${problem}`);
  }
  if (problem) {
    process.stderr.write(`\n!!! PostgreSQL at ${postgresAdminUrl} is not reachable (${problem}).\n!!! NOT RUN against PostgreSQL: ${suite}\n\n`);
  }
  return [
    { kind: 'sqlite', skip: false },
    { kind: 'postgres', skip: problem ? `PostgreSQL not reachable: ${problem}` : false },
  ];
}
