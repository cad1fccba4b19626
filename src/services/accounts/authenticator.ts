import { AppError } from '../../errors/app-error.js';
import type { AppRecord } from '../../storage/apps.js';
import type { AccountsService } from './accounts.js';
import { constantTimeEqual, sha256Hex } from './secrets.js';
import { canonicalRequest, stringToSign, tc3Signature, utcDate, type CanonicalParts, type Tc3Authorization } from './tc3.js';

/** The typed outcome every way of authenticating ends in. */
export interface Authenticated {
  app: AppRecord;
  secretId: string;
  via: 'token' | 'signature' | 'api-key';
}

/** Signatures already seen, until they could no longer pass the timestamp check anyway. */
export interface ReplayCache {
  /** false when the key was already there (a replay). */
  add(key: string, expiresAt: number): boolean;
}

export class MemoryReplayCache implements ReplayCache {
  private readonly seen = new Map<string, number>();
  private lastSweep = 0;

  add(key: string, expiresAt: number): boolean {
    const now = Date.now();
    if (now - this.lastSweep > 10_000) {
      for (const [k, exp] of this.seen) if (exp <= now) this.seen.delete(k);
      this.lastSweep = now;
    }
    const known = this.seen.get(key);
    if (known !== undefined && known > now) return false;
    this.seen.set(key, expiresAt);
    return true;
  }
}

interface Cached<T> { value: T; until: number }

/**
 * Turns credentials into an app, or into a catalogued AuthFailure. Lookups are cached for a few seconds so that
 * authentication costs microseconds per call; every change made through AccountsService drops the app's entries
 * at once (another process sees a change within cacheMs).
 */
export class Authenticator {
  private readonly tokens = new Map<string, Cached<{ appId: string; secretId: string; expiresAt: number } | undefined>>();
  private readonly keys = new Map<string, Cached<{ appId: string; secretId: string; secretKey: string; active: boolean } | undefined>>();
  private readonly apps = new Map<string, Cached<AppRecord | undefined>>();

  constructor(
    private readonly accounts: AccountsService,
    private readonly opts: { signatureMaxSkewSeconds: number; cacheMs?: number; replay?: ReplayCache },
    private readonly replay: ReplayCache = opts.replay ?? new MemoryReplayCache(),
  ) {}

  /** Forget what is cached about an app (its keys, tokens, status). */
  invalidate(appId: string): void {
    this.apps.delete(appId);
    for (const [k, v] of this.tokens) if (v.value?.appId === appId) this.tokens.delete(k);
    for (const [k, v] of this.keys) if (v.value?.appId === appId) this.keys.delete(k);
  }

  private async cached<T>(map: Map<string, Cached<T>>, key: string, load: () => Promise<T>): Promise<T> {
    const now = Date.now();
    const hit = map.get(key);
    if (hit && hit.until > now) return hit.value;
    const value = await load();
    if (map.size > 50_000) map.clear();
    map.set(key, { value, until: now + (this.opts.cacheMs ?? 5000) });
    return value;
  }

  private async activeApp(appId: string): Promise<AppRecord> {
    const app = await this.cached(this.apps, appId, async () => {
      try {
        return await this.accounts.app(appId);
      } catch {
        return undefined;
      }
    });
    if (!app) throw new AppError('AuthFailure.InvalidAuthorization', 'Expected credentials of an existing app but the app was deleted');
    if (app.status !== 'active') throw new AppError('AuthFailure.AppSuspended', `App ${app.appId} is suspended; its credentials are refused until the operator resumes it`);
    return app;
  }

  async token(accessToken: string): Promise<Authenticated> {
    const hash = sha256Hex(accessToken);
    const record = await this.cached(this.tokens, hash, async () => {
      const t = await this.accounts.tokenByHash(hash);
      return t && !t.revokedAt ? { appId: t.appId, secretId: t.secretId, expiresAt: t.expiresAt } : undefined;
    });
    if (!record || record.expiresAt <= Date.now()) {
      throw new AppError('AuthFailure.TokenFailure', 'Expected a valid access token from POST /v1/oauth/token but received one that is unknown, expired or revoked');
    }
    return { app: await this.activeApp(record.appId), secretId: record.secretId, via: 'token' };
  }

  private key(secretId: string) {
    return this.cached(this.keys, secretId, async () => {
      const found = await this.accounts.keyBySecretId(secretId);
      return found && { appId: found.key.appId, secretId, secretKey: found.secretKey, active: found.key.status === 'active' };
    });
  }

  async apiKey(secretKey: string): Promise<Authenticated> {
    const found = await this.cached(this.keys, `hash:${sha256Hex(secretKey)}`, async () => {
      const key = await this.accounts.keyBySecret(secretKey);
      // The secret itself is not kept in this entry: the API-key path never needs it again.
      return key && { appId: key.appId, secretId: key.secretId, secretKey: '', active: key.status === 'active' };
    });
    if (!found || !found.active) {
      throw new AppError('AuthFailure.SecretIdNotFound', 'Expected the secret key of an active key pair as the API key but received an unknown or disabled key');
    }
    return { app: await this.activeApp(found.appId), secretId: found.secretId, via: 'api-key' };
  }

  /** The checks that need no body: timestamp window and a known, active SecretId. Returns the secret key. */
  async beginSignature(auth: Tc3Authorization, timestampHeader: string | undefined, now = Date.now()): Promise<{ secretKey: string; timestamp: number }> {
    const timestamp = Number(timestampHeader);
    if (!timestampHeader || !Number.isInteger(timestamp)) {
      throw new AppError('AuthFailure.InvalidAuthorization', `Expected X-TC-Timestamp as Unix seconds for a TC3-HMAC-SHA256 request but received ${JSON.stringify(timestampHeader ?? null)}`);
    }
    const skew = Math.abs(now / 1000 - timestamp);
    if (skew > this.opts.signatureMaxSkewSeconds) {
      throw new AppError('AuthFailure.SignatureExpire', `Expected X-TC-Timestamp within ${this.opts.signatureMaxSkewSeconds} s of the server clock but received ${timestamp}, ${Math.round(skew)} s away`);
    }
    if (auth.date !== utcDate(timestamp)) {
      throw new AppError('AuthFailure.SignatureFailure', `Expected the credential date ${utcDate(timestamp)} (the UTC date of X-TC-Timestamp) but received ${auth.date}`);
    }
    const key = await this.key(auth.secretId);
    if (!key || !key.active) {
      throw new AppError('AuthFailure.SecretIdNotFound', `Expected the SecretId of an active key pair but received ${JSON.stringify(auth.secretId)}, which is unknown or disabled`);
    }
    return { secretKey: key.secretKey, timestamp };
  }

  /**
   * The signature over the whole request, then the replay check. `hostVariants` lists the Host values a client
   * may have signed: some SDKs sign the host name without the port they send.
   */
  async finishSignature(auth: Tc3Authorization, secretKey: string, timestamp: number, parts: CanonicalParts, hostVariants: string[]): Promise<Authenticated> {
    if (!auth.signedHeaders.includes('host') || !auth.signedHeaders.includes('content-type')) {
      throw new AppError('AuthFailure.SignatureFailure', `Expected SignedHeaders to include content-type and host but received ${auth.signedHeaders.join(';')}`);
    }
    let matched = false;
    for (const host of hostVariants) {
      const canonical = canonicalRequest({ ...parts, headers: { ...parts.headers, host } });
      const expected = tc3Signature(secretKey, auth.date, auth.service, stringToSign(timestamp, auth.date, auth.service, canonical));
      // Evaluate every variant: the time taken does not tell which one matched.
      matched = constantTimeEqual(expected, auth.signature) || matched;
    }
    if (!matched) throw new AppError('AuthFailure.SignatureFailure', 'Expected a TC3-HMAC-SHA256 signature over this request but the signature does not match');
    if (!this.replay.add(`${auth.secretId}:${auth.signature}`, (timestamp + this.opts.signatureMaxSkewSeconds) * 1000 + 1000)) {
      throw new AppError('AuthFailure.RequestReplayed', 'Expected a freshly signed request but received one already served; sign each request anew');
    }
    const key = await this.key(auth.secretId);
    return { app: await this.activeApp(key!.appId), secretId: auth.secretId, via: 'signature' };
  }
}
