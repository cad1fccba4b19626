import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { catalogue } from '../../src/errors/catalogue.js';
import { fixture } from '../helpers/fixtures.js';
import { postForm, postJson, startServer, type ErrorBody, type TestServer } from '../helpers/server.js';

let server: TestServer;
before(async () => { server = await startServer(); });
after(async () => { await server.close(); });

test('health and readiness', async () => {
  const h = await fetch(`${server.url}/healthz`);
  assert.equal(h.status, 200);
  const body = (await h.json()) as { status: string; requestId: string };
  assert.equal(body.status, 'ok');
  assert.equal(body.requestId, h.headers.get('x-request-id'));
  assert.equal((await fetch(`${server.url}/readyz`)).status, 200);
});

test('a sane caller request id is kept; anything else is replaced', async () => {
  const kept = await fetch(`${server.url}/healthz`, { headers: { 'x-request-id': 'trace-abc_123' } });
  assert.equal(kept.headers.get('x-request-id'), 'trace-abc_123');
  const replaced = await fetch(`${server.url}/healthz`, { headers: { 'x-request-id': 'bad id <script>' } });
  assert.match(replaced.headers.get('x-request-id')!, /^[0-9a-f-]{36}$/);
});

test('unknown routes answer the envelope with ResourceNotFound', async () => {
  const res = await fetch(`${server.url}/v1/nothing?x=1`);
  const body = (await res.json()) as ErrorBody;
  assert.equal(res.status, 404);
  assert.equal(body.error.code, 'ResourceNotFound');
  assert.match(body.error.message, /GET \/v1\/nothing$/);
  assert.equal(body.error.requestId, res.headers.get('x-request-id'));
});

test('malformed bodies are 4xx envelopes, never 500', async () => {
  const cases: [RequestInit, string][] = [
    [{ body: '{"image":', headers: { 'content-type': 'application/json' } }, 'InvalidParameter'],
    [{ body: '[1,2]', headers: { 'content-type': 'application/json' } }, 'InvalidParameterValue'],
    [{ body: 'hello', headers: { 'content-type': 'text/plain' } }, 'InvalidParameter'],
    [{ body: '--x\r\nbroken', headers: { 'content-type': 'multipart/form-data; boundary=x' } }, 'InvalidParameter'],
    [{ body: '', headers: { 'content-type': 'application/json' } }, 'InvalidParameter'],
  ];
  for (const [init, code] of cases) {
    const res = await fetch(`${server.url}/v1/images/process`, { method: 'POST', ...init });
    const body = (await res.json()) as ErrorBody;
    assert.ok(res.status >= 400 && res.status < 500, `${JSON.stringify(init)} -> ${res.status} ${JSON.stringify(body)}`);
    assert.equal(body.error.code, code, `${JSON.stringify(init)}: ${body.error.message}`);
  }
  const twoFiles = new FormData();
  twoFiles.set('image', new Blob([new Uint8Array(fixture('formats/png/rgb8.png'))]));
  twoFiles.set('other', new Blob([new Uint8Array(fixture('formats/png/rgb8.png'))]));
  const res = await fetch(`${server.url}/v1/images/info`, { method: 'POST', body: twoFiles });
  assert.equal(((await res.json()) as ErrorBody).error.code, 'InvalidParameter');
});

test('a body over the operator limit is RequestSizeLimitExceeded', async () => {
  const s = await startServer({ IMGSENSE_MAX_IMAGE_BYTES: '1000', IMGSENSE_MAX_BODY_BYTES: '2000' });
  try {
    const res = await postJson(s.url, '/v1/images/info', { image: 'A'.repeat(5000) });
    assert.equal(res.status, 413);
    assert.equal(((await res.json()) as ErrorBody).error.code, 'RequestSizeLimitExceeded');
    const up = await postForm(s.url, '/v1/images/info', fixture('formats/png/rgb8.png'));
    const body = (await up.json()) as ErrorBody;
    assert.equal(up.status, 413);
    assert.equal(body.error.code, 'FailedOperation.ImageSizeExceed');
    assert.match(body.error.message, /at most 1000 bytes for image/);
  } finally {
    await s.close();
  }
});

test('OpenAPI 3.1 lists every route with every error response, and /docs serves', async () => {
  const doc = (await (await fetch(`${server.url}/openapi.json`)).json()) as {
    openapi: string; paths: Record<string, Record<string, { responses: Record<string, unknown> }>>;
  };
  assert.equal(doc.openapi, '3.1.0');
  const statuses = [...new Set(Object.values(catalogue).map((c) => String(c.status)))];
  for (const [path, method] of [['/v1/images/process', 'post'], ['/v1/images/info', 'post'], ['/healthz', 'get'], ['/readyz', 'get'], ['/metrics', 'get']] as const) {
    const op = doc.paths[path]?.[method];
    assert.ok(op, `${method} ${path} missing from OpenAPI`);
    for (const s of statuses) assert.ok(op.responses[s], `${method} ${path} lacks a ${s} response`);
  }
  const processBody = JSON.stringify(doc.paths['/v1/images/process']!.post);
  for (const name of ['resize', 'crop', 'rotate', 'watermark', 'strip-metadata']) assert.ok(processBody.includes(`"${name}"`), name);
  const ui = await fetch(`${server.url}/docs`);
  assert.equal(ui.status, 200);
  assert.match(await ui.text(), /swagger/i);
});

test('metrics count requests by route and status, decoded images by format, bytes in and out', async () => {
  await postForm(server.url, '/v1/images/process', fixture('formats/png/rgb8.png'), { operations: [{ op: 'resize', width: 20 }] });
  await postForm(server.url, '/v1/images/info', fixture('formats/bmp/rgb24.bmp'));
  const text = await (await fetch(`${server.url}/metrics`)).text();
  assert.match(text, /imgsense_http_requests_total\{method="POST",route="\/v1\/images\/process",status="200"\} [1-9]/);
  assert.match(text, /imgsense_http_request_duration_seconds_bucket\{le="0.1",method="POST",route="\/v1\/images\/process"\}/);
  assert.match(text, /imgsense_images_decoded_total\{format="png"\} [1-9]/);
  assert.match(text, /imgsense_images_decoded_total\{format="bmp"\} [1-9]/);
  assert.match(text, /imgsense_image_bytes_in_total [1-9]/);
  assert.match(text, /imgsense_image_bytes_out_total [1-9]/);
});

test('URL input: fetched from an allow-listed loopback host, refused otherwise', async () => {
  const png = fixture('formats/png/rgb8.png');
  let hits = 0;
  const origin = createServer((req, res) => {
    hits++;
    if (req.url === '/redirect') res.writeHead(302, { location: '/img.png' }).end();
    else res.writeHead(200, { 'content-type': 'image/png' }).end(png);
  });
  await new Promise<void>((r) => origin.listen(0, '127.0.0.1', r));
  const port = (origin.address() as AddressInfo).port;
  const allowed = await startServer({ IMGSENSE_FETCH_ALLOW_HOSTS: '127.0.0.1' });
  try {
    const res = await postJson(allowed.url, '/v1/images/info', { url: `http://127.0.0.1:${port}/redirect` });
    const body = (await res.json()) as { format: string; width: number };
    assert.equal(res.status, 200, JSON.stringify(body));
    assert.equal(body.format, 'png');
    const before = hits;
    const refused = await postJson(server.url, '/v1/images/info', { url: `http://127.0.0.1:${port}/img.png` });
    const err = (await refused.json()) as ErrorBody;
    assert.equal(err.error.code, 'InvalidParameterValue.UrlIllegal');
    assert.match(err.error.message, /for url but received a loopback address/);
    assert.equal(hits, before, 'the refused fetch never connected');
    const ftp = await postJson(server.url, '/v1/images/info', { url: 'ftp://127.0.0.1/x.png' });
    assert.equal(((await ftp.json()) as ErrorBody).error.code, 'InvalidParameterValue.UrlIllegal');
  } finally {
    await allowed.close();
    origin.close();
  }
});
