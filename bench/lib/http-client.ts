import { execFileSync } from 'node:child_process';
import http from 'node:http';

/**
 * What the benches share to drive a real server: the server built the way `npm start` builds it, and the lightest
 * client Node has. The client shares the machine's cores with the server it measures, so it is node:http with a
 * keep-alive agent and bodies encoded once (undici's fetch with a FormData per request cost 3-4 ms of CPU a request).
 */
export function buildServer(root: string): string[] {
  execFileSync('npm', ['run', 'build', '--silent'], { cwd: root, stdio: 'inherit' });
  return ['dist/main.js', 'serve'];
}

export interface Encoded { body: Uint8Array; type: string }

/** A multipart body, encoded by undici's FormData once so that requests can re-send its bytes. */
export async function encodeForm(fields: Record<string, Blob | string>): Promise<Encoded> {
  const form = new FormData();
  for (const [k, v] of Object.entries(fields)) form.append(k, v);
  const req = new Request('http://127.0.0.1/', { method: 'POST', body: form });
  return { body: new Uint8Array(await req.arrayBuffer()), type: req.headers.get('content-type')! };
}

export interface Answer { status: number; headers: http.IncomingHttpHeaders; body: Buffer }

export function keepAliveClient(maxSockets: number): { post(url: string, e: Encoded): Promise<Answer>; close(): void } {
  const agent = new http.Agent({ keepAlive: true, maxSockets });
  const post = (url: string, e: Encoded) => new Promise<Answer>((resolve, reject) => {
    const req = http.request(url, { method: 'POST', agent, headers: { 'content-type': e.type, 'content-length': e.body.length } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(e.body);
  });
  return { post, close: () => agent.destroy() };
}
