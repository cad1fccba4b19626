import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import tencentcloud from 'tencentcloud-sdk-nodejs-common';
import { canonicalRequest, sha256Hex, stringToSign, tc3Signature, utcDate } from '../../src/services/accounts/tc3.js';
import { fixture } from '../helpers/fixtures.js';
import { postForm, postJson, startServer, type ErrorBody, type TestServer } from '../helpers/server.js';

const png = fixture('formats/png/rgb8.png');

/** Signs like Tencent's published algorithm, for requests the SDK cannot make (our /v1 paths). */
function signed(server: TestServer, secretId: string, secretKey: string, path: string, body: string, timestamp = Math.floor(Date.now() / 1000)) {
  const host = new URL(server.url).host;
  const headers = { 'content-type': 'application/json', host };
  const date = utcDate(timestamp);
  const canonical = canonicalRequest({ method: 'POST', path, query: '', headers, signedHeaders: ['content-type', 'host'], payloadHash: sha256Hex(body) });
  const signature = tc3Signature(secretKey, date, 'imgsense', stringToSign(timestamp, date, 'imgsense', canonical));
  return {
    'content-type': 'application/json',
    'x-tc-timestamp': String(timestamp),
    authorization: `TC3-HMAC-SHA256 Credential=${secretId}/${date}/imgsense/tc3_request, SignedHeaders=content-type;host, Signature=${signature}`,
  };
}

async function code(res: Response): Promise<string> {
  return ((await res.json()) as ErrorBody).error.code;
}

describe('authentication, scopes and limits over HTTP', () => {
  let server: TestServer;
  const log = new PassThrough();
  let logText = '';
  log.on('data', (d) => { logText += d; });
  const admin = () => ({ authorization: `Bearer ${server.adminKey}` });

  before(async () => {
    server = await startServer({ IMGSENSE_AUTH: 'on', IMGSENSE_API_KEY_AUTH: 'on', LOG_LEVEL: 'debug' }, { logStream: log });
  });
  after(() => server.close());

  async function createApp(body: Record<string, unknown>) {
    const res = await postJson(server.url, '/v1/admin/apps', body, admin());
    assert.equal(res.status, 201);
    return (await res.json()) as { appId: string; secretId: string; secretKey: string; scopes: string[] };
  }

  async function tokenFor(secretId: string, secretKey: string): Promise<string> {
    const res = await fetch(`${server.url}/v1/oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'client_credentials', client_id: secretId, client_secret: secretKey }),
    });
    assert.equal(res.status, 200);
    const body = (await res.json()) as { access_token: string; token_type: string; expires_in: number };
    assert.equal(body.token_type, 'Bearer');
    assert.equal(body.expires_in, 30 * 24 * 3600);
    return body.access_token;
  }

  it('refuses /v1 calls without credentials, and leaves health, docs and the token endpoint open', async () => {
    const res = await postForm(server.url, '/v1/images/info', png);
    assert.equal(res.status, 401);
    assert.equal(await code(res), 'AuthFailure.InvalidAuthorization');
    assert.equal((await fetch(`${server.url}/healthz`)).status, 200);
    assert.equal((await fetch(`${server.url}/openapi.json`)).status, 200);
    const basic = await postForm(server.url, '/v1/images/info', png, {}, { authorization: 'Basic Zm9vOmJhcg==' });
    assert.equal(await code(basic), 'AuthFailure.InvalidAuthorization');
  });

  it('the default app from the first start works with its access token', async () => {
    const res = await postForm(server.url, '/v1/images/info', png, {}, { authorization: `Bearer ${server.credentials.accessToken}` });
    assert.equal(res.status, 200);
  });

  it('operator API: needs the admin key, creates apps and keys, never shows a secret key twice', async () => {
    assert.equal((await fetch(`${server.url}/v1/admin/apps`)).status, 401);
    const wrong = await fetch(`${server.url}/v1/admin/apps`, { headers: { authorization: `Bearer ${server.credentials.accessToken}` } });
    assert.equal(wrong.status, 403);
    assert.equal(await code(wrong), 'UnauthorizedOperation');
    const created = await createApp({ name: 'shop', scopes: ['images.*'], limits: { qps: 50 } });
    assert.match(created.secretId, /^AKID/);
    const detail = await (await fetch(`${server.url}/v1/admin/apps/${created.appId}`, { headers: admin() })).text();
    assert.ok(!detail.includes(created.secretKey), 'GET shows no secret key');
    assert.match(detail, new RegExp(created.secretId));
    const second = await fetch(`${server.url}/v1/admin/apps/${created.appId}/keys`, { method: 'POST', headers: admin() });
    assert.equal(second.status, 201);
    const third = await fetch(`${server.url}/v1/admin/apps/${created.appId}/keys`, { method: 'POST', headers: admin() });
    assert.equal(third.status, 409);
    assert.equal(await code(third), 'LimitExceeded.AccessKeyCount');
    const bad = await postJson(server.url, '/v1/admin/apps', { name: 'x', limits: { qps: 0 } }, admin());
    assert.equal(bad.status, 400);
    assert.match(((await bad.json()) as ErrorBody).error.message, /limits\.qps/);
    const missing = await fetch(`${server.url}/v1/admin/apps/app_nope`, { headers: admin() });
    assert.equal(await code(missing), 'ResourceNotFound.App');
  });

  it('access tokens: form or JSON, wrong secret refused alike, revocation is immediate', async () => {
    const app = await createApp({ name: 'tokens' });
    const wrong = await postJson(server.url, '/v1/oauth/token', { grant_type: 'client_credentials', client_id: app.secretId, client_secret: 'nope' });
    assert.equal(wrong.status, 401);
    assert.equal(await code(wrong), 'AuthFailure.InvalidClient');
    const unknown = await postJson(server.url, '/v1/oauth/token', { grant_type: 'client_credentials', client_id: 'AKIDnope', client_secret: app.secretKey });
    assert.equal(await code(unknown), 'AuthFailure.InvalidClient');
    const grant = await postJson(server.url, '/v1/oauth/token', { grant_type: 'password', client_id: app.secretId, client_secret: app.secretKey });
    assert.match(((await grant.json()) as ErrorBody).error.message, /grant_type/);
    const json = await postJson(server.url, '/v1/oauth/token', { grant_type: 'client_credentials', client_id: app.secretId, client_secret: app.secretKey });
    const token = ((await json.json()) as { access_token: string }).access_token;
    const auth = { authorization: `Bearer ${token}` };
    assert.equal((await postForm(server.url, '/v1/images/info', png, {}, auth)).status, 200);
    // Another app cannot revoke it: the token is not its resource.
    const other = await tokenFor(server.credentials.secretId, server.credentials.secretKey);
    const foreign = await postJson(server.url, '/v1/oauth/revoke', { token }, { authorization: `Bearer ${other}` });
    assert.equal(((await foreign.json()) as { revoked: boolean }).revoked, false);
    assert.equal((await postForm(server.url, '/v1/images/info', png, {}, auth)).status, 200);
    const revoke = await postJson(server.url, '/v1/oauth/revoke', { token }, auth);
    assert.equal(((await revoke.json()) as { revoked: boolean }).revoked, true);
    const after = await postForm(server.url, '/v1/images/info', png, {}, auth);
    assert.equal(after.status, 401);
    assert.equal(await code(after), 'AuthFailure.TokenFailure');
    assert.equal(await code(await postForm(server.url, '/v1/images/info', png, {}, { authorization: 'Bearer ist_made_up' })), 'AuthFailure.TokenFailure');
  });

  it('suspended apps and disabled keys are refused, and work again when resumed', async () => {
    const app = await createApp({ name: 'suspend-me' });
    const token = await tokenFor(app.secretId, app.secretKey);
    const auth = { authorization: `Bearer ${token}` };
    await fetch(`${server.url}/v1/admin/apps/${app.appId}/suspend`, { method: 'POST', headers: admin() });
    const refused = await postForm(server.url, '/v1/images/info', png, {}, auth);
    assert.equal(refused.status, 403);
    assert.equal(await code(refused), 'AuthFailure.AppSuspended');
    await fetch(`${server.url}/v1/admin/apps/${app.appId}/resume`, { method: 'POST', headers: admin() });
    assert.equal((await postForm(server.url, '/v1/images/info', png, {}, auth)).status, 200);
    await fetch(`${server.url}/v1/admin/apps/${app.appId}/keys/${app.secretId}/disable`, { method: 'POST', headers: admin() });
    const body = JSON.stringify({ image: png.toString('base64') });
    const res = await fetch(`${server.url}/v1/images/info`, { method: 'POST', body, headers: signed(server, app.secretId, app.secretKey, '/v1/images/info', body) });
    assert.equal(await code(res), 'AuthFailure.SecretIdNotFound');
  });

  it('TC3 signatures: a signed call works once; replay, wrong key, stale timestamp and unknown SecretId are refused', async () => {
    const app = await createApp({ name: 'signer' });
    const body = JSON.stringify({ image: png.toString('base64') });
    const headers = signed(server, app.secretId, app.secretKey, '/v1/images/info', body);
    const ok = await fetch(`${server.url}/v1/images/info`, { method: 'POST', body, headers });
    assert.equal(ok.status, 200, await ok.clone().text());
    const replay = await fetch(`${server.url}/v1/images/info`, { method: 'POST', body, headers });
    assert.equal(await code(replay), 'AuthFailure.RequestReplayed');
    const tampered = await fetch(`${server.url}/v1/images/info`, { method: 'POST', body: body.replace('"image"', '"image" '), headers: signed(server, app.secretId, app.secretKey, '/v1/images/info', body) });
    assert.equal(await code(tampered), 'AuthFailure.SignatureFailure');
    const wrongKey = await fetch(`${server.url}/v1/images/info`, { method: 'POST', body, headers: signed(server, app.secretId, `${app.secretKey}x`, '/v1/images/info', body) });
    assert.equal(await code(wrongKey), 'AuthFailure.SignatureFailure');
    const stale = await fetch(`${server.url}/v1/images/info`, { method: 'POST', body, headers: signed(server, app.secretId, app.secretKey, '/v1/images/info', body, Math.floor(Date.now() / 1000) - 600) });
    assert.equal(stale.status, 401);
    assert.equal(await code(stale), 'AuthFailure.SignatureExpire');
    const unknown = await fetch(`${server.url}/v1/images/info`, { method: 'POST', body, headers: signed(server, 'AKIDunknown', app.secretKey, '/v1/images/info', body) });
    assert.equal(await code(unknown), 'AuthFailure.SecretIdNotFound');
  });

  it('the unmodified tencentcloud-sdk-nodejs client signs requests the server accepts, and sees Tencent error codes', async () => {
    const app = await createApp({ name: 'tencent-sdk' });
    const client = (key: string) => new tencentcloud.CommonClient(new URL(server.url).host, '2020-03-03', {
      credential: { secretId: app.secretId, secretKey: key },
      region: 'ap-guangzhou',
      profile: { httpProfile: { protocol: 'http://', reqTimeout: 10 } },
    });
    // A valid signature gets past authentication to the action dispatch; this server serves no action yet.
    await assert.rejects(client(app.secretKey).request('DetectLabel', { ImageUrl: 'x' }), (err: { code?: string }) => err.code === 'InvalidAction');
    await assert.rejects(client(`${app.secretKey}x`).request('DetectLabel', { ImageUrl: 'x' }), (err: { code?: string }) => err.code === 'AuthFailure.SignatureFailure');
  });

  it('DeepStack-style API keys: header or form field when enabled', async () => {
    const app = await createApp({ name: 'deepstack' });
    assert.equal((await postForm(server.url, '/v1/images/info', png, {}, { 'x-api-key': app.secretKey })).status, 200);
    assert.equal((await postForm(server.url, '/v1/images/info', png, { api_key: app.secretKey })).status, 200);
    const wrong = await postForm(server.url, '/v1/images/info', png, { api_key: 'not-a-key' });
    assert.equal(await code(wrong), 'AuthFailure.SecretIdNotFound');
  });

  it('scopes: an app may call only the APIs it was granted', async () => {
    const app = await createApp({ name: 'process-only', scopes: ['images.process'] });
    const auth = { authorization: `Bearer ${await tokenFor(app.secretId, app.secretKey)}` };
    const res = await postForm(server.url, '/v1/images/info', png, {}, auth);
    assert.equal(res.status, 403);
    assert.equal(await code(res), 'UnauthorizedOperation');
    assert.equal((await postForm(server.url, '/v1/images/process', png, { output: { format: 'jpeg' } }, auth)).status, 200);
    // analyze is scoped per feature, as the endpoint computing that feature alone.
    const vision = await createApp({ name: 'vision-only', scopes: ['vision.*'] });
    const vauth = { authorization: `Bearer ${await tokenFor(vision.secretId, vision.secretKey)}` };
    const faces = await postForm(server.url, '/v1/vision/analyze', png, { features: ['moderation', 'faces'] }, vauth);
    assert.equal(faces.status, 403);
    assert.match(((await faces.json()) as ErrorBody).error.message, /faces\.detect for the faces feature/);
  });

  it('limits: requests per second answer 429 with Retry-After; a daily quota counts successful calls only', async () => {
    const fast = await createApp({ name: 'qps', limits: { qps: 2 } });
    const auth = { authorization: `Bearer ${await tokenFor(fast.secretId, fast.secretKey)}` };
    const statuses = await Promise.all([0, 1, 2, 3].map(() => postForm(server.url, '/v1/images/info', png, {}, auth)));
    const limited = statuses.filter((r) => r.status === 429);
    assert.ok(limited.length >= 1, `got ${statuses.map((r) => r.status)}`);
    assert.equal(await code(limited[0]!), 'RequestLimitExceeded');
    assert.ok(Number(limited[0]!.headers.get('retry-after')) >= 1);

    const quota = await createApp({ name: 'quota', limits: { daily: 1 } });
    const qauth = { authorization: `Bearer ${await tokenFor(quota.secretId, quota.secretKey)}` };
    assert.equal((await postForm(server.url, '/v1/images/info', Buffer.from('not an image'), {}, qauth)).status, 400);
    assert.equal((await postForm(server.url, '/v1/images/info', png, {}, qauth)).status, 200);
    await new Promise((r) => setTimeout(r, 50));
    const over = await postForm(server.url, '/v1/images/info', png, {}, qauth);
    assert.equal(over.status, 429);
    assert.equal(await code(over), 'LimitExceeded.DailyQuota');
  });

  it('no secret ever reaches the log', async () => {
    const app = await createApp({ name: 'log-check' });
    const token = await tokenFor(app.secretId, app.secretKey);
    await postForm(server.url, '/v1/images/info', png, {}, { authorization: `Bearer ${token}` });
    await fetch(`${server.url}/v1/images/info?api_key=${app.secretKey}`, { method: 'POST' });
    await postForm(server.url, '/v1/images/info', png, {}, { 'x-api-key': app.secretKey });
    await new Promise((r) => setTimeout(r, 50));
    assert.ok(logText.length > 1000, 'the server logged requests');
    for (const secret of [app.secretKey, token, server.adminKey, server.credentials.secretKey, server.credentials.accessToken]) {
      assert.ok(!logText.includes(secret), 'a secret appears in the log');
    }
  });
});
