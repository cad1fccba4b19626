import { afterEach, beforeEach, test } from 'node:test';
import assert from 'node:assert/strict';
import dc from 'node:diagnostics_channel';
import http from 'node:http';
import net from 'node:net';
import type { LookupAddress, LookupOptions } from 'node:dns';
import { AppError } from '../../src/errors/app-error.js';
import type { ErrorCode } from '../../src/errors/catalogue.js';
import { fetchImageUrl, requestOptions, type FetchOptions, type ResolvedAddress } from '../../src/net/fetch-url.js';

// ---- Network guard: every client socket in this process is inspected before it connects. Only loopback
// targets may go through; anything else is blocked and recorded, so even a bug cannot reach another host.
const attempts: string[] = [];
const violations: string[] = [];
const isLoopback = (a: string) => /^(127\.|::ffff:127\.)/.test(a) || a === '::1';
const note = (address: string) => {
  attempts.push(address);
  if (isLoopback(address)) return true;
  violations.push(address);
  return false;
};
type Cb = (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;
type Lookup = (host: string, options: LookupOptions, cb: Cb) => void;
dc.subscribe('net.client.socket', (message) => {
  const socket = (message as { socket: net.Socket }).socket;
  const connect = socket.connect;
  socket.connect = function (this: net.Socket, ...args: unknown[]) {
    const o = (Array.isArray(args[0]) ? args[0][0] : args[0]) as { host?: string; lookup?: Lookup };
    const host = o.host ?? 'localhost';
    if (net.isIP(host)) {
      if (!note(host)) throw new Error(`test guard: blocked a connection to ${host}`);
    } else {
      const inner = o.lookup;
      if (!inner) throw new Error(`test guard: blocked a real DNS lookup of ${host}`, violations.push(host) as never);
      o.lookup = (h, opts, cb) =>
        inner(h, opts, (err, addr, fam) => {
          const list = err ? [] : Array.isArray(addr) ? addr.map((a) => a.address) : [addr];
          if (list.map(note).every(Boolean)) cb(err, addr, fam);
          else cb(Object.assign(new Error('test guard: blocked'), { code: 'EGUARD' }), '');
        });
    }
    return (connect as (...a: unknown[]) => net.Socket).apply(this, args);
  } as typeof socket.connect;
});

// ---- Loopback test servers
interface Srv {
  port: number;
  conns: number;
  reqs: http.IncomingMessage[];
  url: (path?: string) => string;
}
const servers: http.Server[] = [];
async function serve(handler: (req: http.IncomingMessage, res: http.ServerResponse, srv: Srv) => void, host = '127.0.0.1', port = 0): Promise<Srv> {
  const srv: Srv = { port: 0, conns: 0, reqs: [], url: (p = '/') => `http://${host.includes(':') ? `[${host}]` : host}:${srv.port}${p}` };
  const server = http.createServer((req, res) => (srv.reqs.push(req), handler(req, res, srv)));
  server.on('connection', () => srv.conns++);
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(port, host, resolve));
  servers.push(server);
  srv.port = (server.address() as net.AddressInfo).port;
  return srv;
}
const tryServe = (...a: Parameters<typeof serve>) => serve(...a).catch(() => undefined);
const png = Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex');
const image = (_req: http.IncomingMessage, res: http.ServerResponse) => res.writeHead(200, { 'Content-Type': 'image/png' }).end(png);

beforeEach(() => void (attempts.length = 0));
afterEach(async () => {
  assert.deepEqual(violations, [], 'no socket may ever target a non-loopback address');
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
});

const noDns = async (): Promise<ResolvedAddress[]> => assert.fail('DNS must not be used here');
const opts = (o: Partial<FetchOptions> = {}): FetchOptions => ({ maxBytes: 1 << 20, timeoutMs: 5000, maxRedirects: 3, allowHosts: [], lookup: noDns, ...o });
const dnsMap = (map: Record<string, string[]>, calls: string[] = []) => async (h: string) => {
  calls.push(h);
  return (map[h] ?? assert.fail(`unexpected lookup ${h}`)).map((address) => ({ address, family: net.isIP(address) as 4 | 6 }));
};
async function rejects(p: Promise<unknown>, code: ErrorCode, re?: RegExp): Promise<AppError> {
  const err = await p.then(() => assert.fail(`expected ${code}`), (e: unknown) => e);
  assert.ok(err instanceof AppError, `not an AppError: ${String(err)}`);
  assert.equal(err.code, code, err.message);
  if (re) assert.match(err.message, re);
  assert.doesNotMatch(err.message, /\n\s+at /, 'no stack trace in a public message');
  return err;
}

test('happy path: allow-listed CIDR reaches the loopback server with the documented headers', async () => {
  const s = await serve(image);
  const r = await fetchImageUrl(s.url('/a.png?x=1'), opts({ allowHosts: ['127.0.0.0/8'] }));
  assert.deepEqual(r.bytes, png);
  assert.equal(r.contentType, 'image/png');
  assert.equal(r.redirects, 0);
  assert.equal(r.finalUrl, s.url('/a.png?x=1'));
  const h = s.reqs[0]!.headers;
  assert.equal(h['user-agent'], 'imgsense');
  assert.equal(h.accept, 'image/*');
  assert.equal(h.cookie, undefined);
  assert.equal(h.host, `127.0.0.1:${s.port}`);
  assert.deepEqual(attempts, ['127.0.0.1']);
});

test('allow-list by host name (case-insensitive) and by IP; Host header keeps the name', async () => {
  const s = await serve(image);
  const calls: string[] = [];
  const r = await fetchImageUrl(`http://IMG.Test:${s.port}/p`, opts({ allowHosts: ['img.TEST'], lookup: dnsMap({ 'img.test': ['127.0.0.1'] }, calls) }));
  assert.deepEqual(r.bytes, png);
  assert.deepEqual(calls, ['img.test']);
  assert.equal(s.reqs[0]!.headers.host, `img.test:${s.port}`);
  await fetchImageUrl(s.url(), opts({ allowHosts: ['127.0.0.1'] }));
  const v6 = await tryServe(image, '::1');
  if (v6) assert.deepEqual((await fetchImageUrl(v6.url(), opts({ allowHosts: ['::1/128'] }))).bytes, png);
});

test('loopback is refused without an allow-list, and nothing connects', async () => {
  const s = await serve(image);
  await rejects(fetchImageUrl(s.url(), opts()), 'InvalidParameterValue.UrlIllegal', /^Expected a public http\(s\) address for url but received a loopback address \(127\.0\.0\.1\)$/);
  await rejects(fetchImageUrl(`http://localhost:${s.port}/`, opts({ lookup: dnsMap({ localhost: ['::1', '127.0.0.1'] }) })), 'InvalidParameterValue.UrlIllegal', /loopback/);
  assert.equal(s.conns, 0);
  assert.deepEqual(attempts, []);
});

test('a host is refused when ANY of its addresses is refused; no socket is opened', async () => {
  const s = await serve(image); // the loopback address is allow-listed, so only the refused one stops the fetch
  const refused: readonly (readonly [string, RegExp])[] = [
    ['10.0.0.5', /a private address \(10\.0\.0\.5\)/],
    ['169.254.169.254', /cloud metadata address/],
    ['100.100.100.200', /cloud metadata address/],
    ['fd00:ec2::254', /cloud metadata address/],
    ['100.64.0.1', /carrier-grade NAT address/],
    ['::ffff:127.0.0.2', /loopback address \(::ffff:127\.0\.0\.2, which embeds 127\.0\.0\.2\)/],
    ['64:ff9b::a00:5', /private address .*embeds 10\.0\.0\.5/],
    ['2002:a9fe:a9fe::', /cloud metadata address/],
    ['224.0.0.1', /multicast address/],
    ['fe80::1', /link-local address/],
    ['192.168.0.10', /private address/],
    ['0.0.0.0', /unspecified address/],
    ['255.255.255.255', /broadcast address/],
    ['198.18.0.1', /benchmarking address/],
  ];
  for (const [address, re] of refused) {
    for (const order of [[address, '127.0.0.1'], ['127.0.0.1', address]]) {
      const o = opts({ allowHosts: ['127.0.0.1'], lookup: dnsMap({ 'evil.test': order }) });
      await rejects(fetchImageUrl(`http://evil.test:${s.port}/`, o), 'InvalidParameterValue.UrlIllegal', re);
    }
  }
  assert.equal(s.conns, 0);
  assert.deepEqual(attempts, []);
});

test('IP literal spellings are checked after WHATWG normalisation, without DNS', async () => {
  const s = await serve(image);
  for (const host of ['2130706433', '0x7f.1', '0177.0.0.1', '127.1', '[::ffff:127.0.0.1]', '[::ffff:7f00:1]']) {
    await rejects(fetchImageUrl(`http://${host}:${s.port}/`, opts()), 'InvalidParameterValue.UrlIllegal', /loopback address/);
  }
  await rejects(fetchImageUrl(`http://0:${s.port}/`, opts()), 'InvalidParameterValue.UrlIllegal', /unspecified address \(0\.0\.0\.0\)/);
  await rejects(fetchImageUrl('http://0xa9fea9fe/', opts()), 'InvalidParameterValue.UrlIllegal', /cloud metadata address \(169\.254\.169\.254\)/);
  assert.equal(s.conns, 0);
  const r = await fetchImageUrl(`http://2130706433:${s.port}/`, opts({ allowHosts: ['127.0.0.1/32'] }));
  assert.equal(r.finalUrl, s.url());
});

test('only http: and https: URLs without credentials', async () => {
  const s = await serve(image);
  const o = opts({ allowHosts: ['127.0.0.1'] });
  for (const url of ['ftp://127.0.0.1/a.png', 'file:///etc/passwd', 'data:image/png;base64,iVBORw0KGgo=', 'javascript:alert(1)', 'gopher://127.0.0.1/', 'ws://127.0.0.1/']) {
    await rejects(fetchImageUrl(url, o), 'InvalidParameterValue.UrlIllegal', /^Expected an http: or https: URL for url but received scheme /);
  }
  await rejects(fetchImageUrl('not a url', o), 'InvalidParameterValue.UrlIllegal', /absolute http\(s\) URL for url/);
  for (const cred of ['user:hunter2@', 'user@', ':hunter2@']) {
    const err = await rejects(fetchImageUrl(`http://${cred}127.0.0.1:${s.port}/`, o), 'InvalidParameterValue.UrlIllegal', /without credentials/);
    assert.doesNotMatch(err.message, /hunter2/);
  }
  assert.equal(s.conns, 0);
});

test('redirects are followed, re-checked per hop, and carry no cookies', async () => {
  const s = await serve((req, res) => {
    if (req.url === '/img') return image(req, res);
    res.writeHead(302, { Location: '/img', 'Set-Cookie': 'sid=1' }).end('moved');
  });
  const r = await fetchImageUrl(s.url('/start'), opts({ allowHosts: ['127.0.0.1'] }));
  assert.equal(r.redirects, 1);
  assert.equal(r.finalUrl, s.url('/img'));
  assert.ok(s.reqs.every((q) => q.headers.cookie === undefined));
});

test('a redirect from an allowed host to a non-allowed address is refused before connecting', async () => {
  const spy = await tryServe(image, '127.0.0.2');
  const target = spy ? spy.url('/x') : 'http://127.0.0.2:9/x';
  const a = await serve((req, res, srv) => {
    const to = req.url === '/to-ip' ? target : req.url === '/to-name' ? `http://other.test:${srv.port}/` : 'ftp://127.0.0.1/x';
    res.writeHead(301, { Location: to }).end();
  });
  const lookup = dnsMap({ 'allowed.test': ['127.0.0.1'], 'other.test': ['127.0.0.1'] });
  const o = opts({ allowHosts: ['allowed.test'], lookup });
  await rejects(fetchImageUrl(`http://allowed.test:${a.port}/to-ip`, o), 'InvalidParameterValue.UrlIllegal', /loopback address \(127\.0\.0\.2\) after redirect 1$/);
  // same address, but the new host name is not allow-listed: refused, so the server saw only the first hop
  await rejects(fetchImageUrl(`http://allowed.test:${a.port}/to-name`, o), 'InvalidParameterValue.UrlIllegal', /loopback address \(127\.0\.0\.1\) after redirect 1$/);
  await rejects(fetchImageUrl(`http://allowed.test:${a.port}/to-ftp`, o), 'InvalidParameterValue.UrlIllegal', /scheme "ftp:" after redirect 1$/);
  assert.equal(a.reqs.length, 3);
  assert.equal(spy?.conns ?? 0, 0);
  assert.deepEqual(attempts, ['127.0.0.1', '127.0.0.1', '127.0.0.1']);
});

test('more than maxRedirects hops fail with ImageDownloadError', async () => {
  const s = await serve((req, res) => res.writeHead(307, { Location: `/n${Number(req.url!.slice(2) || 0) + 1}` }).end());
  await rejects(fetchImageUrl(s.url('/n0'), opts({ allowHosts: ['127.0.0.1'] })), 'FailedOperation.ImageDownloadError', /^Expected at most 3 redirects for url but received 4$/);
  assert.equal(s.reqs.length, 4);
  await rejects(fetchImageUrl(s.url('/n0'), opts({ allowHosts: ['127.0.0.1'], maxRedirects: 0 })), 'FailedOperation.ImageDownloadError', /at most 0 redirects/);
});

test('Content-Length above maxBytes fails before the body is read', async () => {
  const s = await serve((_req, res) => {
    res.writeHead(200, { 'Content-Length': 5000 });
    res.write(Buffer.alloc(10)); // the rest never comes: only the header may decide
  });
  await rejects(fetchImageUrl(s.url(), opts({ allowHosts: ['127.0.0.1'], maxBytes: 1000 })), 'FailedOperation.ImageSizeExceed', /at most 1000 bytes for url but received a Content-Length of 5000/);
});

test('a chunked body is cut off as soon as it exceeds maxBytes', async () => {
  let closed!: () => void;
  const gone = new Promise<void>((r) => (closed = r));
  const s = await serve((_req, res) => {
    res.writeHead(200, { 'Content-Type': 'image/png' }); // no Content-Length: chunked, endless
    const timer = setInterval(() => res.write(Buffer.alloc(256)), 2);
    res.on('close', () => (clearInterval(timer), closed()));
  });
  await rejects(fetchImageUrl(s.url(), opts({ allowHosts: ['127.0.0.1'], maxBytes: 1000 })), 'FailedOperation.ImageSizeExceed', /at most 1000 bytes for url but received more than 1000/);
  await gone; // the client hung up
});

test('the overall deadline covers a silent server and a slow DNS answer', async () => {
  const s = await serve(() => undefined); // accepts, never answers
  await rejects(fetchImageUrl(s.url(), opts({ allowHosts: ['127.0.0.1'], timeoutMs: 300 })), 'FailedOperation.ImageDownloadError', /within 300 ms for url but received a timeout/);
  const hang = () => new Promise<ResolvedAddress[]>(() => undefined);
  await rejects(fetchImageUrl('http://slow.test/', opts({ timeoutMs: 300, lookup: hang })), 'FailedOperation.ImageDownloadError', /within 300 ms/);
});

test('non-2xx, connection errors, empty bodies, DNS failures, cancellation', async () => {
  const s = await serve((req, res) => (req.url === '/empty' ? res.writeHead(200).end() : res.writeHead(404).end('secret-body')));
  const o = opts({ allowHosts: ['127.0.0.1'] });
  const err = await rejects(fetchImageUrl(s.url('/missing'), o), 'FailedOperation.ImageDownloadError', /^Expected a 2xx response for url but received HTTP 404$/);
  assert.doesNotMatch(`${err.message} ${err.detail ?? ''}`, /secret-body/);
  await rejects(fetchImageUrl(s.url('/empty'), o), 'FailedOperation.EmptyImageError', /received 0 bytes/);
  const dead = await serve(image);
  const deadUrl = dead.url();
  for (const x of servers.splice(servers.length - 1)) await new Promise((r) => x.close(r));
  const refused = await rejects(fetchImageUrl(deadUrl, o), 'FailedOperation.ImageDownloadError', /connection error \(ECONNREFUSED\)/);
  assert.ok(refused.detail, 'the internal error goes to detail');
  const nx = async () => Promise.reject(Object.assign(new Error('getaddrinfo ENOTFOUND'), { code: 'ENOTFOUND' }));
  await rejects(fetchImageUrl('http://nx.test/', opts({ lookup: nx })), 'FailedOperation.ImageDownloadError', /resolvable host name for url but received "nx.test" \(ENOTFOUND\)/);
  await rejects(fetchImageUrl('http://none.test/', opts({ lookup: async () => [] })), 'FailedOperation.ImageDownloadError', /no addresses/);
  await rejects(fetchImageUrl(s.url(), opts({ ...o, signal: AbortSignal.abort() })), 'FailedOperation.ImageDownloadError', /cancellation/);
});

test('DNS rebinding: the connection is pinned to the address that was checked', async () => {
  const s = await serve((req, res) => (req.url === '/hop' ? res.writeHead(302, { Location: '/img' }).end() : image(req, res)));
  const spy = await tryServe(image, '127.0.0.2', s.port); // where a rebinding attacker would send us
  let calls = 0;
  const rebinding = async (): Promise<ResolvedAddress[]> => [{ address: calls++ === 0 ? '127.0.0.1' : '127.0.0.2', family: 4 }];
  const o = opts({ allowHosts: ['127.0.0.1'], lookup: rebinding });
  const r = await fetchImageUrl(`http://rebind.test:${s.port}/img`, o);
  assert.deepEqual(r.bytes, png);
  assert.equal(calls, 1, 'one lookup per hop; the socket uses its answer');
  assert.deepEqual(attempts, ['127.0.0.1']);
  // a second hop resolves again, and the new (rebound) answer goes through the check again
  calls = 0;
  await rejects(fetchImageUrl(`http://rebind.test:${s.port}/hop`, o), 'InvalidParameterValue.UrlIllegal', /loopback address \(127\.0\.0\.2\) after redirect 1/);
  assert.equal(spy?.conns ?? 0, 0);
  assert.deepEqual(attempts, ['127.0.0.1', '127.0.0.1']);
});

test('request options: Host header and TLS servername keep the name, lookup is pinned', async () => {
  const pinned = [{ address: '127.0.0.1', family: 4 as const }];
  const o = requestOptions(new URL('https://Img.Test./a?b=1'), pinned, new AbortController().signal);
  assert.equal(o.servername, 'img.test');
  assert.equal(o.host, 'img.test');
  assert.equal(o.port, 443);
  assert.equal(o.path, '/a?b=1');
  assert.equal(o.agent, false);
  assert.equal(o.rejectUnauthorized, true);
  assert.equal((o.headers as Record<string, string>).Host, 'img.test.');
  const ask = (host: string, all: boolean) =>
    new Promise((resolve) => o.lookup!(host, { all }, (err, address, family) => resolve(err ? (err as NodeJS.ErrnoException).code : [address, family])));
  assert.deepEqual(await ask('img.test', true), [[{ address: '127.0.0.1', family: 4 }], undefined]);
  assert.deepEqual(await ask('img.test', false), ['127.0.0.1', 4]);
  assert.equal(await ask('other.test', false), 'EPINNED');
  assert.equal(requestOptions(new URL('https://[::1]:8443/'), pinned, new AbortController().signal).servername, undefined);
});

test('a malformed allow-list is an InternalError, and proxies in the environment are ignored', async () => {
  await rejects(fetchImageUrl('http://a.test/', opts({ allowHosts: ['10.0.0.0/99'] })), 'InternalError', /allow-list/);
  const proxy = await serve((_q, res) => res.writeHead(502).end());
  const s = await serve(image);
  const saved = { ...process.env };
  Object.assign(process.env, { HTTP_PROXY: proxy.url(), http_proxy: proxy.url(), HTTPS_PROXY: proxy.url() });
  try {
    assert.deepEqual((await fetchImageUrl(s.url(), opts({ allowHosts: ['127.0.0.1'] }))).bytes, png);
  } finally {
    for (const k of ['HTTP_PROXY', 'http_proxy', 'HTTPS_PROXY']) if (saved[k] === undefined) delete process.env[k];
  }
  assert.equal(proxy.conns, 0);
});
