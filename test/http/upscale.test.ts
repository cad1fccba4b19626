import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import sharp from 'sharp';
import type { EmbeddedJobQueue } from '../../src/jobs/embedded.js';
import { fixture } from '../helpers/fixtures.js';
import { postForm, postJson, startServer, type ErrorBody, type TestServer } from '../helpers/server.js';

let server: TestServer;
// Inputs over 40x40 become jobs; 16-px tiles give a 64x48 input a dozen tiles to report progress on.
before(async () => {
  server = await startServer({
    IMGSENSE_UPSCALE_SYNC_MAX_PIXELS: '1600',
    IMGSENSE_UPSCALE_TILE_SIZE: '16',
    IMGSENSE_UPSCALE_MAX_OUTPUT_PIXELS: '500000',
    IMGSENSE_JOB_RESULT_TTL_SECONDS: '1',
  });
});
after(async () => { await server.close(); });

async function photo(width: number, height: number, format: 'png' | 'jpeg' = 'png'): Promise<Buffer> {
  return sharp(fixture('objects/dog.jpg')).resize(width, height, { fit: 'cover' })[format]().toBuffer();
}

interface JobBody {
  id: string; state: string; progress: { done: number; total: number }; error: { code: string } | null;
  createdAt: string; startedAt: string | null; finishedAt: string | null; result: { width: number; height: number } | null;
}

async function job(id: string): Promise<{ status: number; body: JobBody }> {
  const res = await fetch(`${server.url}/v1/jobs/${id}`);
  return { status: res.status, body: (await res.json()) as JobBody };
}

async function settle(id: string): Promise<JobBody> {
  for (;;) {
    const { body } = await job(id);
    if (!['queued', 'running'].includes(body.state)) return body;
    await new Promise((r) => setTimeout(r, 50));
  }
}

test('a small input answers synchronously: x2 of the size, alpha re-attached; JSON under Accept: application/json', async () => {
  const rgba = await sharp(await photo(40, 30)).ensureAlpha(0.5).png().toBuffer();
  const res = await postForm(server.url, '/v1/images/upscale', rgba, { scale: '2', model: 'slim' });
  assert.equal(res.status, 200, await res.clone().text());
  assert.equal(res.headers.get('content-type'), 'image/png');
  const meta = await sharp(Buffer.from(await res.arrayBuffer())).metadata();
  assert.deepEqual([meta.width, meta.height, meta.hasAlpha], [80, 60, true]);

  // Grey with alpha (2 channels) comes back grey-looking RGB with its alpha.
  const greyAlpha = await sharp(await photo(30, 20)).grayscale().ensureAlpha(0.25).png().toBuffer();
  const grey = await postForm(server.url, '/v1/images/upscale', greyAlpha, { scale: '2' });
  assert.equal(grey.status, 200);
  const greyMeta = await sharp(Buffer.from(await grey.arrayBuffer())).metadata();
  assert.deepEqual([greyMeta.width, greyMeta.height, greyMeta.hasAlpha], [60, 40, true]);

  const json = await postJson(server.url, '/v1/images/upscale', { image: (await photo(20, 20, 'jpeg')).toString('base64'), scale: 3, output: { format: 'webp', quality: 70 } }, { accept: 'application/json' });
  assert.equal(json.status, 200);
  const body = (await json.json()) as { image: string; format: string; width: number; height: number };
  assert.deepEqual([body.format, body.width, body.height], ['webp', 60, 60]);
  assert.equal((await sharp(Buffer.from(body.image, 'base64')).metadata()).format, 'webp');
});

test('bad parameters answer a catalogued 4xx naming the parameter, the allowed values and what was received', async () => {
  const img = await photo(20, 20);
  const cases: [Record<string, unknown>, string, RegExp][] = [
    [{ scale: '5' }, 'InvalidParameterValue', /Expected integer between 2 and 4 for scale but received 5/],
    [{ model: 'huge' }, 'InvalidParameterValue', /Expected one of slim, medium, thick for model but received "huge"/],
    [{ output: { format: 'bmp' } }, 'InvalidParameterValue', /output\.format/],
    [{ strength: '1' }, 'InvalidParameter', /strength/],
  ];
  for (const [fields, code, message] of cases) {
    const res = await postForm(server.url, '/v1/images/upscale', img, fields);
    const body = (await res.json()) as ErrorBody;
    assert.equal(res.status, 400, JSON.stringify(fields));
    assert.equal(body.error.code, code);
    assert.match(body.error.message, message);
  }
  // 400x400 x2 = 640000 pixels, over the 500000 this server allows: refused from the header.
  const big = await sharp({ create: { width: 400, height: 400, channels: 3, background: '#808080' } }).png().toBuffer();
  const res = await postForm(server.url, '/v1/images/upscale', big, { scale: '2' });
  const body = (await res.json()) as ErrorBody;
  assert.equal(res.status, 400);
  assert.equal(body.error.code, 'FailedOperation.UpscaleOutputTooLarge');
  assert.match(body.error.message, /at most 500000 pixels \(IMGSENSE_UPSCALE_MAX_OUTPUT_PIXELS\) for scale 2 .* 800x800 = 640000/);
});

test('a larger input becomes a job: 202 with Location, progress in tiles, timings, then the result; expiry', async () => {
  const res = await postForm(server.url, '/v1/images/upscale', await photo(64, 48), { scale: '2', output: { format: 'jpeg' } });
  assert.equal(res.status, 202, await res.clone().text());
  const { jobId, requestId } = (await res.json()) as { jobId: string; requestId: string };
  assert.ok(requestId);
  assert.equal(res.headers.get('location'), `/v1/jobs/${jobId}`);

  const done = await settle(jobId);
  assert.equal(done.state, 'succeeded', JSON.stringify(done));
  assert.ok(done.progress.total >= 9);
  assert.equal(done.progress.done, done.progress.total);
  assert.ok(done.startedAt && done.finishedAt && done.createdAt <= done.startedAt && done.startedAt <= done.finishedAt);
  assert.deepEqual([done.result?.width, done.result?.height], [128, 96]);

  const result = await fetch(`${server.url}/v1/jobs/${jobId}/result`);
  assert.equal(result.status, 200);
  assert.equal(result.headers.get('content-type'), 'image/jpeg');
  const meta = await sharp(Buffer.from(await result.arrayBuffer())).metadata();
  assert.deepEqual([meta.width, meta.height], [128, 96]);

  // Another app never sees it; an unknown id is the same 404.
  assert.equal(await server.services.jobs.get('some-other-app', jobId), undefined);
  const unknown = await fetch(`${server.url}/v1/jobs/00000000-0000-4000-8000-000000000000`);
  assert.equal(unknown.status, 404);
  assert.equal(((await unknown.json()) as ErrorBody).error.code, 'ResourceNotFound.Job');

  // Results live IMGSENSE_JOB_RESULT_TTL_SECONDS (1 s here): then 410 until the sweep (every second here) deletes
  // files and row, then 404. test/storage/jobs.test.ts checks the 410 without a sweeper racing it.
  await new Promise((r) => setTimeout(r, 1100));
  const expired = await fetch(`${server.url}/v1/jobs/${jobId}/result`);
  const code = ((await expired.json()) as ErrorBody).error.code;
  assert.ok(expired.status === 410 ? code === 'ResourceUnavailable.JobExpired' : code === 'ResourceNotFound.Job', `${expired.status} ${code}`);
  await (server.services.jobs as EmbeddedJobQueue).sweep();
  assert.equal((await job(jobId)).status, 404);
});

test('DELETE cancels a job; its result is then not available (409 naming the state)', async () => {
  // Two jobs: with one running at a time, the second is still queued (or just started) when cancelled.
  const first = (await (await postForm(server.url, '/v1/images/upscale', await photo(160, 120), { scale: '2' })).json()) as { jobId: string };
  const second = (await (await postForm(server.url, '/v1/images/upscale', await photo(160, 120), { scale: '2' })).json()) as { jobId: string };
  const res = await fetch(`${server.url}/v1/jobs/${second.jobId}`, { method: 'DELETE' });
  assert.equal(res.status, 200);
  assert.equal(((await res.json()) as JobBody).state, 'cancelled');
  const notReady = await fetch(`${server.url}/v1/jobs/${second.jobId}/result`);
  assert.equal(notReady.status, 409);
  const err = (await notReady.json()) as ErrorBody;
  assert.equal(err.error.code, 'ResourceUnavailable.JobNotReady');
  assert.match(err.error.message, /its state is cancelled/);
  // Cancelling the running one stops it at its next tile.
  await fetch(`${server.url}/v1/jobs/${first.jobId}`, { method: 'DELETE' });
  const stopped = await settle(first.jobId);
  assert.ok(stopped.state === 'cancelled' || stopped.state === 'succeeded', stopped.state);
});

test('with authentication on, another app\'s job id answers 404 on every job route', async () => {
  const authed = await startServer({ IMGSENSE_AUTH: 'on', IMGSENSE_UPSCALE_SYNC_MAX_PIXELS: '100' });
  try {
    const mine = { authorization: `Bearer ${authed.credentials.accessToken}` };
    const other = await authed.services.accounts.createApp({ name: 'other' });
    const token = await authed.services.accounts.issueToken(other.secretId, other.secretKey);
    const theirs = { authorization: `Bearer ${token.accessToken}` };
    const res = await postForm(authed.url, '/v1/images/upscale', await photo(20, 20), { scale: '2' }, mine);
    assert.equal(res.status, 202, await res.clone().text());
    const { jobId } = (await res.json()) as { jobId: string };
    assert.equal((await fetch(`${authed.url}/v1/jobs/${jobId}`, { headers: mine })).status, 200);
    for (const [method, suffix] of [['GET', ''], ['GET', '/result'], ['DELETE', '']] as const) {
      const r = await fetch(`${authed.url}/v1/jobs/${jobId}${suffix}`, { method, headers: theirs });
      assert.equal(r.status, 404, `${method} ${suffix}`);
      assert.equal(((await r.json()) as ErrorBody).error.code, 'ResourceNotFound.Job');
    }
    assert.equal((await fetch(`${authed.url}/v1/jobs/${jobId}`)).status, 401, 'no credentials, no job');
  } finally {
    await authed.close();
  }
});

test('the OpenAPI document describes the upscale and job routes', async () => {
  const doc = (await (await fetch(`${server.url}/openapi.json`)).json()) as { paths: Record<string, Record<string, unknown>> };
  assert.ok(doc.paths['/v1/images/upscale']?.post);
  assert.ok(doc.paths['/v1/jobs/{id}']?.get && doc.paths['/v1/jobs/{id}']?.delete);
  assert.ok(doc.paths['/v1/jobs/{id}/result']?.get);
});

test('an upscale is metered in megapixels of output, sync or job', async () => {
  const sync = await postForm(server.url, '/v1/images/upscale', await photo(20, 10), { scale: '3' });
  assert.equal(sync.status, 200);
  const queued = await postForm(server.url, '/v1/images/upscale', await photo(50, 40), { scale: '2' });
  assert.equal(queued.status, 202);
  const ids = [sync.headers.get('x-request-id'), queued.headers.get('x-request-id')];
  let rows: { request_id: string; units: number }[] = [];
  for (let i = 0; i < 100 && rows.length < 2; i++) {
    await server.services.usageMeter.flush();
    rows = await server.services.database.db.selectFrom('usage_records').select(['request_id', 'units'])
      .where('action', '=', 'images.upscale').where('request_id', 'in', ids as string[]).execute();
    if (rows.length < 2) await new Promise((r) => setTimeout(r, 20));
  }
  const units = Object.fromEntries(rows.map((r) => [r.request_id, Number(r.units)]));
  assert.equal(units[ids[0]!], (60 * 30) / 1e6);
  assert.equal(units[ids[1]!], (100 * 80) / 1e6);
});
