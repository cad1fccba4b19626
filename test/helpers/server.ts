import { loadConfig, type Config } from '../../src/config/env.js';
import { buildApp } from '../../src/http/app.js';
import { createServices } from '../../src/services/create.js';

export interface TestServer {
  url: string;
  config: Config;
  close(): Promise<void>;
}

/** A real server on a loopback port, configured from env-style variables like an operator would. */
export async function startServer(env: Record<string, string> = {}): Promise<TestServer> {
  const config = loadConfig({ IMGSENSE_DATA_DIR: '.tmp/test-data', ...env });
  const services = createServices(config);
  const { app, lifecycle } = await buildApp({ config, services, logger: false, onClose: () => services.inference.close() });
  await app.listen({ host: '127.0.0.1', port: 0 });
  lifecycle.ready = true;
  const address = app.server.address();
  if (address === null || typeof address === 'string') throw new Error('no address');
  return { url: `http://127.0.0.1:${address.port}`, config, close: () => app.close() };
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
