/**
 * What authentication + scope check + rate limiting + metering add to a request.
 *
 *   npm run bench:auth -- [--requests N] [--rounds R]
 *
 * Two servers in this process on loopback, built exactly as `imgsense serve` builds them: one with IMGSENSE_AUTH=off
 * (no credentials, no limits) and one with IMGSENSE_AUTH=on whose app has a qps limit and a daily quota high enough
 * never to refuse. One client sends sequential requests to POST /v1/images/info with a 1x1 PNG (the cheapest metered
 * route), alternating servers request by request so that drift hits both equally, for three ways of authenticating:
 * bearer token, TC3-HMAC-SHA256 signature (signed per request, as an SDK does), API key. The table gives median and
 * p90 latency per mode and the median of the per-pair differences against the open server. Goal: <= 0.5 ms.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../src/config/env.js';
import { buildApp } from '../src/http/app.js';
import { createServerServices } from '../src/services/server.js';
import { canonicalRequest, sha256Hex, stringToSign, tc3Signature, utcDate } from '../src/services/accounts/tc3.js';

const args = process.argv.slice(2);
const flag = (name: string, fallback: number) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : fallback;
};
const requests = flag('requests', 1500);
const rounds = flag('rounds', 1);

async function server(env: Record<string, string>) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'imgsense-bench-auth-'));
  const config = loadConfig({ IMGSENSE_DATA_DIR: dir, LOG_LEVEL: 'warn', IMGSENSE_API_KEY_AUTH: 'on', ...env });
  const services = await createServerServices(config);
  const { app, lifecycle } = await buildApp({ config, services, logger: false, onClose: () => services.close() });
  await app.listen({ host: '127.0.0.1', port: 0 });
  lifecycle.ready = true;
  const { port } = app.server.address() as { port: number };
  return { url: `http://127.0.0.1:${port}`, services, close: async () => { await app.close(); rmSync(dir, { recursive: true, force: true }); } };
}

// 1x1 RGB PNG
const png = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGP4z8AAAAMBAQDJ/pLvAAAAAElFTkSuQmCC', 'base64');
const body = JSON.stringify({ image: png.toString('base64') });

const open = await server({ IMGSENSE_AUTH: 'off' });
const secured = await server({ IMGSENSE_AUTH: 'on' });
const app = await secured.services.accounts.createApp({ name: 'bench', limits: { qps: 1_000_000, daily: 100_000_000 } });
const token = (await secured.services.accounts.issueToken(app.secretId, app.secretKey)).accessToken;
const host = new URL(secured.url).host;

type Mode = 'token' | 'signature' | 'api-key';
function headersFor(mode: Exclude<Mode, 'signature'>): Record<string, string> {
  const base = { 'content-type': 'application/json' };
  return mode === 'token' ? { ...base, authorization: `Bearer ${token}` } : { ...base, 'x-api-key': app.secretKey };
}

async function timed(url: string, headers: Record<string, string>, payload: string): Promise<number> {
  const t0 = process.hrtime.bigint();
  const res = await fetch(`${url}/v1/images/info`, { method: 'POST', headers, body: payload });
  await res.arrayBuffer();
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (res.status !== 200) throw new Error(`status ${res.status}`);
  return ms;
}

const quantile = (xs: number[], q: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))]!;

console.log(`bench/auth: ${requests} request pairs per mode x ${rounds} round(s), sequential, POST /v1/images/info (1x1 PNG)`);
console.log('| mode | open median ms | auth median ms | auth p90 ms | added (median of pair differences) ms |');
console.log('| --- | --- | --- | --- | --- |');
for (const mode of ['token', 'signature', 'api-key'] as Mode[]) {
  const openMs: number[] = [];
  const authMs: number[] = [];
  const diffs: number[] = [];
  for (let r = 0; r < rounds; r++) {
    for (let i = -50; i < requests; i++) {
      // Each signed request is unique (a replayed one is refused): a whitespace-distinct but equivalent JSON body.
      const payload = mode === 'signature' ? `${body}${' '.repeat(i + 50)}` : body;
      const headers = mode === 'signature' ? signedFor(payload) : headersFor(mode);
      const a = await timed(open.url, { 'content-type': 'application/json' }, payload);
      const b = await timed(secured.url, headers, payload);
      if (i < 0) continue; // warm-up
      openMs.push(a);
      authMs.push(b);
      diffs.push(b - a);
    }
  }
  console.log(`| ${mode} | ${quantile(openMs, 0.5).toFixed(3)} | ${quantile(authMs, 0.5).toFixed(3)} | ${quantile(authMs, 0.9).toFixed(3)} | ${quantile(diffs, 0.5).toFixed(3)} |`);
}

/** Signed per request, as an SDK does. */
function signedFor(payload: string): Record<string, string> {
  const ts = Math.floor(Date.now() / 1000);
  const date = utcDate(ts);
  const canonical = canonicalRequest({ method: 'POST', path: '/v1/images/info', query: '', headers: { 'content-type': 'application/json', host }, signedHeaders: ['content-type', 'host'], payloadHash: sha256Hex(payload) });
  const signature = tc3Signature(app.secretKey, date, 'imgsense', stringToSign(ts, date, 'imgsense', canonical));
  return { 'content-type': 'application/json', 'x-tc-timestamp': String(ts), authorization: `TC3-HMAC-SHA256 Credential=${app.secretId}/${date}/imgsense/tc3_request, SignedHeaders=content-type;host, Signature=${signature}` };
}

await open.close();
await secured.close();
