import { randomUUID } from 'node:crypto';
import { AppError } from '../../errors/app-error.js';
import type { AppLimits, AppRecord, AppsRepository, KeyRecord } from '../../storage/apps.js';
import type { TokensRepository } from '../../storage/tokens.js';
import { constantTimeEqual, newAppId, newSecretId, newSecretKey, randomToken, Sealer, sha256Hex } from './secrets.js';

export type { AppLimits, AppRecord, KeyRecord };

export interface NewApp {
  name: string;
  scopes?: string[];
  limits?: AppLimits;
}

export interface Credentials {
  appId: string;
  secretId: string;
  secretKey: string;
}

/** A key pair as the operator sees it: never the secret key itself. */
export interface KeyView {
  secretId: string;
  status: KeyRecord['status'];
  createdAt: number;
  lastUsedAt: number | null;
}

export const maxKeysPerApp = 2;

/**
 * Apps, their key pairs and access tokens: the operator's side (create, change, suspend) and the lookups that
 * authentication needs. Secrets leave this class only once, in the answer to the call that created them.
 */
export class AccountsService {
  constructor(
    private readonly apps: AppsRepository,
    private readonly tokens: TokensRepository,
    private readonly sealer: Sealer,
    private readonly tokenTtlSeconds: number,
    /** Told whenever an app's credentials or standing change, so caches drop what they hold. */
    private readonly onChange: (appId: string) => void = () => {},
  ) {}

  async createApp(input: NewApp, now = Date.now()): Promise<{ app: AppRecord } & Credentials> {
    const app: AppRecord = {
      appId: newAppId(), name: input.name, status: 'active', scopes: input.scopes ?? ['*'], limits: input.limits ?? {},
      createdAt: now, updatedAt: now,
    };
    const { key, secretKey } = this.newKey(app.appId, now);
    await this.apps.createWithKey(app, key);
    return { app, appId: app.appId, secretId: key.secretId, secretKey };
  }

  private newKey(appId: string, now: number): { key: KeyRecord; secretKey: string } {
    const secretKey = newSecretKey();
    return {
      secretKey,
      key: {
        secretId: newSecretId(), appId, secretSealed: this.sealer.seal(secretKey), secretHash: sha256Hex(secretKey),
        status: 'active', createdAt: now, lastUsedAt: null,
      },
    };
  }

  async app(appId: string): Promise<AppRecord> {
    const app = await this.apps.get(appId);
    if (!app) throw new AppError('ResourceNotFound.App', `No app with id ${JSON.stringify(appId)}`);
    return app;
  }

  findAppByName(name: string): Promise<AppRecord | undefined> {
    return this.apps.findByName(name);
  }

  listApps(): Promise<AppRecord[]> {
    return this.apps.list();
  }

  async updateApp(appId: string, patch: Partial<Pick<AppRecord, 'name' | 'status' | 'scopes' | 'limits'>>): Promise<AppRecord> {
    await this.app(appId);
    const updated = await this.apps.update(appId, patch, Date.now());
    this.onChange(appId);
    return updated!;
  }

  async deleteApp(appId: string): Promise<void> {
    if (!(await this.apps.delete(appId))) throw new AppError('ResourceNotFound.App', `No app with id ${JSON.stringify(appId)}`);
    this.onChange(appId);
  }

  async keys(appId: string): Promise<KeyView[]> {
    await this.app(appId);
    return (await this.apps.keys(appId)).map(({ secretId, status, createdAt, lastUsedAt }) => ({ secretId, status, createdAt, lastUsedAt }));
  }

  /** A second key pair, for rotation without downtime: both work until the old one is disabled. */
  async createKey(appId: string): Promise<Credentials> {
    await this.app(appId);
    const existing = await this.apps.keys(appId);
    if (existing.length >= maxKeysPerApp) {
      throw new AppError('LimitExceeded.AccessKeyCount', `Expected at most ${maxKeysPerApp} key pairs per app but app ${appId} has ${existing.length}; delete one first`);
    }
    const { key, secretKey } = this.newKey(appId, Date.now());
    await this.apps.addKey(key);
    return { appId, secretId: key.secretId, secretKey };
  }

  private async ownKey(appId: string, secretId: string): Promise<KeyRecord> {
    const key = await this.apps.key(secretId);
    if (!key || key.appId !== appId) throw new AppError('ResourceNotFound.AccessKey', `No key pair ${JSON.stringify(secretId)} in app ${appId}`);
    return key;
  }

  async setKeyStatus(appId: string, secretId: string, status: KeyRecord['status']): Promise<void> {
    await this.ownKey(appId, secretId);
    await this.apps.setKeyStatus(secretId, status);
    this.onChange(appId);
  }

  async deleteKey(appId: string, secretId: string): Promise<void> {
    await this.ownKey(appId, secretId);
    await this.apps.deleteKey(secretId);
    this.onChange(appId);
  }

  /** OAuth2 client credentials: the key pair in, a bearer token out. Unknown id and wrong secret look alike. */
  async issueToken(clientId: string, clientSecret: string, now = Date.now()): Promise<{ accessToken: string; expiresIn: number; appId: string }> {
    const refused = new AppError('AuthFailure.InvalidClient', 'Expected the client_id and client_secret of an active key pair but received credentials that do not match one');
    const key = await this.apps.key(clientId);
    const secret = key ? this.sealer.open(key.secretSealed) : 'x'.repeat(32);
    if (!constantTimeEqual(secret, clientSecret) || !key || key.status !== 'active') throw refused;
    const app = await this.apps.get(key.appId);
    if (!app || app.status !== 'active') throw new AppError('AuthFailure.AppSuspended', `App ${key.appId} is suspended`);
    const accessToken = randomToken('ist_', 32);
    await this.tokens.insert({
      id: randomUUID(), appId: app.appId, secretId: key.secretId, tokenHash: sha256Hex(accessToken),
      createdAt: now, expiresAt: now + this.tokenTtlSeconds * 1000, revokedAt: null,
    });
    return { accessToken, expiresIn: this.tokenTtlSeconds, appId: app.appId };
  }

  async revokeToken(appId: string, accessToken: string): Promise<boolean> {
    const revoked = await this.tokens.revoke(appId, sha256Hex(accessToken), Date.now());
    if (revoked) this.onChange(appId);
    return revoked;
  }

  // --- lookups for authentication --------------------------------------------------------------------------

  async tokenByHash(tokenHash: string) {
    return this.tokens.byHash(tokenHash);
  }

  async keyBySecretId(secretId: string): Promise<{ key: KeyRecord; secretKey: string } | undefined> {
    const key = await this.apps.key(secretId);
    return key && { key, secretKey: this.sealer.open(key.secretSealed) };
  }

  keyBySecret(secretKey: string): Promise<KeyRecord | undefined> {
    return this.apps.keyByHash(sha256Hex(secretKey));
  }
}
