/**
 * Fetches an image by URL without letting the URL reach inside the network (SSRF). Every hop: parse and check
 * the URL, resolve the host once, refuse if any address is refused (src/net/address-policy.ts), then connect
 * through a lookup pinned to the addresses just checked, so a DNS answer that changes between check and
 * connect (rebinding) cannot redirect the socket. Redirects are followed by hand, each hop checked the same way.
 *
 * Proxies from the environment are not used: node:http never reads HTTP(S)_PROXY, and we pass agent: false.
 */
import { promises as dns, type LookupAddress, type LookupOptions } from 'node:dns';
import http, { type IncomingMessage } from 'node:http';
import https from 'node:https';
import { isIP } from 'node:net';
import { AppError } from '../errors/app-error.js';
import { compileAllowList, firstRefused, normaliseHost, parseIp, type AllowList } from './address-policy.js';

export interface ResolvedAddress {
  address: string;
  family: 4 | 6;
}

export interface FetchOptions {
  /** From limits: maxImageBytes, fetchTimeoutMs, fetchMaxRedirects. */
  maxBytes: number;
  timeoutMs: number;
  maxRedirects: number;
  /** Operator allow-list: host names (exact, case-insensitive), IP literals, or CIDRs. Empty by default. */
  allowHosts: readonly string[];
  /** Injectable DNS for tests; default dns.promises.lookup(host, { all: true, verbatim: true }). */
  lookup?: (hostname: string) => Promise<ResolvedAddress[]>;
  signal?: AbortSignal;
}

export interface FetchedImage {
  bytes: Buffer;
  finalUrl: string;
  contentType: string | undefined;
  redirects: number;
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);
const HEADERS = { 'User-Agent': 'imgsense', Accept: 'image/*', 'Accept-Encoding': 'identity', Connection: 'close' };

async function defaultLookup(hostname: string): Promise<ResolvedAddress[]> {
  const found = await dns.lookup(hostname, { all: true, verbatim: true });
  return found.map((a) => ({ address: a.address, family: a.family === 6 ? 6 : 4 }));
}

/** A URL for a message: credentials masked, long ones shortened. */
function show(url: string): string {
  const masked = url.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/?#]*@/i, '$1***@');
  return JSON.stringify(masked.length > 64 ? `${masked.slice(0, 61)}...` : masked);
}

function illegal(expected: string, received: string, hop: number): AppError {
  const after = hop > 0 ? ` after redirect ${hop}` : '';
  return new AppError('InvalidParameterValue.UrlIllegal', `Expected ${expected} for url but received ${received}${after}`);
}

function download(expected: string, received: string, detail?: unknown): AppError {
  const opts = detail === undefined ? {} : { detail: detail instanceof Error ? String(detail.stack ?? detail) : String(detail), cause: detail };
  return new AppError('FailedOperation.ImageDownloadError', `Expected ${expected} for url but received ${received}`, opts);
}

/** Scheme and credential checks; the host is the WHATWG-normalised one (so "0x7f.1" is already 127.0.0.1). */
export function parseTarget(raw: string, base?: URL, hop = 0): URL {
  let url: URL;
  try {
    url = base ? new URL(raw, base) : new URL(raw);
  } catch {
    throw base
      ? download('a valid redirect Location', `${show(raw)} after redirect ${hop}`)
      : illegal('an absolute http(s) URL', show(raw), hop);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw illegal('an http: or https: URL', `scheme ${JSON.stringify(url.protocol)}`, hop);
  }
  if (url.username !== '' || url.password !== '') {
    throw illegal('a URL without credentials (user:password@)', `one with credentials (${show(url.href)})`, hop);
  }
  if (url.hostname === '') throw illegal('a URL with a host', show(url.href), hop);
  return url;
}

/** Resolves (IP literals skip DNS) and checks every address; returns the addresses that may be connected to. */
async function resolveChecked(
  url: URL,
  allow: AllowList,
  lookup: (hostname: string) => Promise<ResolvedAddress[]>,
  hop: number,
): Promise<ResolvedAddress[]> {
  const host = normaliseHost(url.hostname);
  const literal = parseIp(host);
  let found: ResolvedAddress[];
  if (literal && isIP(host)) {
    found = [{ address: host, family: literal.family }];
  } else {
    try {
      found = await lookup(url.hostname);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException | null)?.code;
      throw download('a resolvable host name', `${JSON.stringify(host)}${code ? ` (${code})` : ''}`, err);
    }
  }
  const checked: ResolvedAddress[] = [];
  for (const a of found) {
    const ip = typeof a?.address === 'string' ? parseIp(a.address) : undefined;
    if (!ip) throw download('a resolvable host name', `${JSON.stringify(host)} (an invalid address from DNS)`);
    checked.push({ address: a.address, family: ip.family });
  }
  if (checked.length === 0) throw download('a resolvable host name', `${JSON.stringify(host)} (no addresses)`);
  const refused = firstRefused(
    allow,
    host,
    checked.map((a) => a.address),
  );
  if (refused !== undefined) throw illegal('a public http(s) address', refused, hop);
  return checked;
}

/** A net lookup that can only ever answer with the addresses already checked. */
function pinnedLookup(host: string, addresses: readonly ResolvedAddress[]) {
  return (hostname: string, options: LookupOptions, callback: (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void): void => {
    process.nextTick(() => {
      if (normaliseHost(hostname) !== host) {
        callback(Object.assign(new Error(`pinned lookup for ${host} asked for ${hostname}`), { code: 'EPINNED' }), '');
        return;
      }
      const want = options.family === 4 || options.family === 'IPv4' ? 4 : options.family === 6 || options.family === 'IPv6' ? 6 : 0;
      const matching = addresses.filter((a) => want === 0 || a.family === want);
      const list = matching.length > 0 ? matching : addresses;
      if (options.all) callback(null, list.map((a) => ({ address: a.address, family: a.family })));
      else callback(null, (list[0] as ResolvedAddress).address, (list[0] as ResolvedAddress).family);
    });
  };
}

/** Options for one request: Host header and TLS SNI keep the original name, the socket goes to a checked address. */
export function requestOptions(url: URL, addresses: readonly ResolvedAddress[], signal: AbortSignal): https.RequestOptions {
  const host = normaliseHost(url.hostname);
  const tls = url.protocol === 'https:';
  return {
    protocol: url.protocol,
    host,
    port: url.port === '' ? (tls ? 443 : 80) : Number(url.port),
    path: `${url.pathname}${url.search}`,
    method: 'GET',
    headers: { Host: url.host, ...HEADERS },
    agent: false,
    insecureHTTPParser: false,
    lookup: pinnedLookup(host, addresses),
    signal,
    ...(tls ? { rejectUnauthorized: true, ...(isIP(host) ? {} : { servername: host }) } : {}),
  };
}

function send(url: URL, addresses: readonly ResolvedAddress[], signal: AbortSignal): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const mod = url.protocol === 'https:' ? https : http;
    const req = mod.request(requestOptions(url, addresses, signal), resolve);
    req.on('error', reject); // stays attached: late socket errors must not crash the process
    req.end();
  });
}

function readBody(res: IncomingMessage, maxBytes: number, signal: AbortSignal): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let total = 0;
    const fail = (err: unknown) => {
      signal.removeEventListener('abort', onAbort);
      res.destroy();
      reject(err);
    };
    const onAbort = () => fail(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    res.on('data', (chunk: Buffer) => {
      total += chunk.length;
      if (total > maxBytes) fail(new AppError('FailedOperation.ImageSizeExceed', `Expected at most ${maxBytes} bytes for url but received more than ${maxBytes}`));
      else chunks.push(chunk);
    });
    res.on('end', () => {
      signal.removeEventListener('abort', onAbort);
      resolve(Buffer.concat(chunks, total));
    });
    res.on('error', fail);
    res.on('close', () => {
      if (!res.complete) fail(new Error('connection closed before the response body was complete'));
    });
  });
}

/** One deadline for DNS, connect, every hop and the body; also follows the caller's signal. */
class Deadline {
  readonly controller = new AbortController();
  timedOut = false;
  private readonly timer: NodeJS.Timeout;
  private readonly onExternal = () => this.controller.abort(this.external?.reason);

  constructor(
    readonly ms: number,
    private readonly external?: AbortSignal,
  ) {
    this.timer = setTimeout(() => {
      this.timedOut = true;
      this.controller.abort(new Error(`timed out after ${ms} ms`));
    }, ms);
    if (external?.aborted) this.onExternal();
    else external?.addEventListener('abort', this.onExternal, { once: true });
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** Settles with `work`, or rejects as soon as the deadline passes (DNS lookups cannot be cancelled). */
  race<T>(work: Promise<T>): Promise<T> {
    const signal = this.signal;
    work.catch(() => undefined);
    if (signal.aborted) return Promise.reject(signal.reason);
    return new Promise<T>((resolve, reject) => {
      const onAbort = () => reject(signal.reason);
      signal.addEventListener('abort', onAbort, { once: true });
      work.then(
        (v) => (signal.removeEventListener('abort', onAbort), resolve(v)),
        (e) => (signal.removeEventListener('abort', onAbort), reject(e)),
      );
    });
  }

  toAppError(err: unknown): AppError {
    if (err instanceof AppError) return err;
    if (this.timedOut) return download(`a complete response within ${this.ms} ms`, 'a timeout', err);
    if (this.external?.aborted) return download('a completed download', 'a cancellation', err);
    const code = (err as NodeJS.ErrnoException | null)?.code;
    return download('a reachable http(s) server', `a connection error${code ? ` (${code})` : ''}`, err);
  }

  dispose(): void {
    clearTimeout(this.timer);
    this.external?.removeEventListener('abort', this.onExternal);
  }
}

export async function fetchImageUrl(url: string, opts: FetchOptions): Promise<FetchedImage> {
  let allow: AllowList;
  try {
    allow = compileAllowList(opts.allowHosts);
  } catch (err) {
    const detail = err instanceof Error ? err.message : String(err);
    throw new AppError('InternalError', 'The server URL allow-list (IMGSENSE_FETCH_ALLOW_HOSTS) is misconfigured', { detail, cause: err });
  }
  const lookup = opts.lookup ?? defaultLookup;
  let target = parseTarget(url);
  const deadline = new Deadline(opts.timeoutMs, opts.signal);
  try {
    for (let hop = 0; ; hop++) {
      const addresses = await deadline.race(resolveChecked(target, allow, lookup, hop));
      const res = await deadline.race(send(target, addresses, deadline.signal));
      const status = res.statusCode ?? 0;
      if (REDIRECTS.has(status)) {
        res.destroy(); // a redirect's body is never read
        if (hop >= opts.maxRedirects) throw download(`at most ${opts.maxRedirects} redirects`, `${hop + 1}`);
        const location = res.headers.location;
        if (!location) throw download('a Location header on a redirect', `HTTP ${status} without one`);
        target = parseTarget(location, target, hop + 1);
        continue;
      }
      if (status < 200 || status > 299) {
        res.destroy();
        throw download('a 2xx response', `HTTP ${status}`);
      }
      const length = res.headers['content-length'];
      if (length !== undefined && Number(length) > opts.maxBytes) {
        res.destroy();
        throw new AppError(
          'FailedOperation.ImageSizeExceed',
          `Expected at most ${opts.maxBytes} bytes for url but received a Content-Length of ${Number(length)}`,
        );
      }
      const bytes = await readBody(res, opts.maxBytes, deadline.signal);
      if (bytes.length === 0) throw new AppError('FailedOperation.EmptyImageError', 'Expected a non-empty image for url but received 0 bytes');
      return { bytes, finalUrl: target.href, contentType: res.headers['content-type'], redirects: hop };
    }
  } catch (err) {
    throw deadline.toAppError(err);
  } finally {
    deadline.dispose();
  }
}
