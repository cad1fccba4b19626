import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig, type Config } from '../../src/config/env.js';
import { buildApp } from '../../src/http/app.js';
import { createServerServices, type ServerServices } from '../../src/services/server.js';

export interface TestServer {
  url: string;
  config: Config;
  services: ServerServices;
  /** The default app's credentials (each server gets its own fresh database unless IMGSENSE_DATABASE_URL is given). */
  credentials: { appId: string; secretId: string; secretKey: string; accessToken: string };
  adminKey: string;
  close(): Promise<void>;
}

export const testAdminKey = 'test-admin-key-0123456789abcdef';

/**
 * A real server on a loopback port, configured from env-style variables like an operator would. The data dir
 * (and its model cache) is shared between tests; the database is a fresh SQLite file per server. Authentication
 * is off unless the test turns it on (IMGSENSE_AUTH=on): the auth suites test it, the others test features.
 */
export async function startServer(env: Record<string, string> = {}, opts: { logStream?: NodeJS.WritableStream } = {}): Promise<TestServer> {
  const dbDir = fs.mkdtempSync(path.join(os.tmpdir(), 'imgsense-test-db-'));
  const config = loadConfig({
    IMGSENSE_DATA_DIR: '.tmp/test-data',
    IMGSENSE_DATABASE_URL: `sqlite:${path.join(dbDir, 'imgsense.db')}`,
    IMGSENSE_AUTH: 'off',
    IMGSENSE_ADMIN_KEY: testAdminKey,
    IMGSENSE_MASTER_KEY: Buffer.alloc(32, 7).toString('base64'),
    ...env,
  });
  const services = await createServerServices(config);
  const { app, lifecycle } = await buildApp({
    config, services, ...(opts.logStream ? { logStream: opts.logStream } : { logger: false }), onClose: () => services.close(),
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  lifecycle.ready = true;
  const address = app.server.address();
  if (address === null || typeof address === 'string') throw new Error('no address');
  return {
    url: `http://127.0.0.1:${address.port}`,
    config,
    services,
    credentials: services.defaultCredentials ?? { appId: '', secretId: '', secretKey: '', accessToken: '' },
    adminKey: services.adminKey,
    close: async () => {
      await app.close();
      fs.rmSync(dbDir, { recursive: true, force: true });
    },
  };
}
export function form(image: Buffer | undefined, fields: Record<string, unknown> = {}): FormData {
  const fd = new FormData();
  if (image) fd.set('image', new Blob([new Uint8Array(image)]), 'upload.bin');
  for (const [k, v] of Object.entries(fields)) fd.set(k, typeof v === 'string' ? v : JSON.stringify(v));
  return fd;
}

export interface ErrorBody { error: { code: string; message: string; requestId: string } }

export async function postForm(base: string, path: string, image: Buffer | undefined, fields: Record<string, unknown> = {}, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${base}${path}`, { method: 'POST', body: form(image, fields), headers });
}

export async function postJson(base: string, path: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${base}${path}`, {
    method: 'POST',
    body: typeof body === 'string' ? body : JSON.stringify(body),
    headers: { 'content-type': 'application/json', ...headers },
  });
}
