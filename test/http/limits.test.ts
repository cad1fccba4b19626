import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fixture } from '../helpers/fixtures.js';
import { postForm, startServer, type ErrorBody } from '../helpers/server.js';

const photo = fixture('formats/jpeg/baseline.jpg');

test('IMGSENSE_PROCESS_TIMEOUT_MS stops a pipeline between steps with ProcessingTimeout', async () => {
  const s = await startServer({ IMGSENSE_PROCESS_TIMEOUT_MS: '1' });
  try {
    const res = await postForm(s.url, '/v1/images/process', photo, { operations: [{ op: 'blur', sigma: 10 }, { op: 'rotate', angle: 10 }] });
    const body = (await res.json()) as ErrorBody;
    assert.equal(res.status, 408);
    assert.equal(body.error.code, 'FailedOperation.ProcessingTimeout');
    assert.match(body.error.message, /operations\[\d\]/);
  } finally {
    await s.close();
  }
});

test('IMGSENSE_MAX_QUEUE: past the queue, requests get 429 with Retry-After instead of waiting', async () => {
  const s = await startServer({ IMGSENSE_PROCESSING_CONCURRENCY: '1', IMGSENSE_MAX_QUEUE: '1' });
  try {
    const heavy = () => postForm(s.url, '/v1/images/process', photo, { operations: [{ op: 'blur', sigma: 8 }], output: { format: 'png' } });
    const responses = await Promise.all(Array.from({ length: 6 }, heavy));
    const statuses = responses.map((r) => r.status);
    const refused = responses.filter((r) => r.status === 429);
    assert.ok(statuses.filter((st) => st === 200).length >= 2, `statuses ${statuses}`);
    assert.ok(refused.length >= 1, `statuses ${statuses}`);
    assert.equal(refused[0]!.headers.get('retry-after'), '1');
    assert.equal(((await refused[0]!.json()) as ErrorBody).error.code, 'RequestLimitExceeded');
    await Promise.all(responses.map((r) => r.arrayBuffer().catch(() => undefined)));
  } finally {
    await s.close();
  }
});

test('IMGSENSE_MAX_OUTPUT_DIMENSION and IMGSENSE_MAX_OPERATIONS bound what a request may ask for', async () => {
  const s = await startServer({ IMGSENSE_MAX_OUTPUT_DIMENSION: '100', IMGSENSE_MAX_OPERATIONS: '2' });
  try {
    let res = await postForm(s.url, '/v1/images/process', photo, { operations: [{ op: 'resize', width: 200 }] });
    let body = (await res.json()) as ErrorBody;
    assert.equal(body.error.code, 'InvalidParameterValue');
    assert.match(body.error.message, /Expected integer between 1 and 100 for operations\[0\].width but received 200/);
    res = await postForm(s.url, '/v1/images/process', photo, { operations: [{ op: 'flip' }, { op: 'flop' }, { op: 'flip' }] });
    body = (await res.json()) as ErrorBody;
    assert.match(body.error.message, /at most 2 items for operations but received 3/);
    res = await postForm(s.url, '/v1/images/process', photo, { operations: [{ op: 'resize', width: 50 }] });
    assert.equal(res.status, 200);
  } finally {
    await s.close();
  }
});
