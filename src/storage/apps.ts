import type { Database } from './database.js';
import type { AppKeysTable, AppsTable } from './schema.js';

export interface AppLimits {
  qps?: number;
  concurrency?: number;
  daily?: number;
  monthly?: number;
}

export interface AppRecord {
  appId: string;
  name: string;
  status: 'active' | 'suspended';
  scopes: string[];
  limits: AppLimits;
  createdAt: number;
  updatedAt: number;
}

export interface KeyRecord {
  secretId: string;
  appId: string;
  secretSealed: string;
  secretHash: string;
  status: 'active' | 'disabled';
  createdAt: number;
  lastUsedAt: number | null;
}

function toApp(row: AppsTable): AppRecord {
  return {
    appId: row.id, name: row.name, status: row.status, scopes: JSON.parse(row.scopes) as string[],
    limits: JSON.parse(row.limits) as AppLimits, createdAt: row.created_at, updatedAt: row.updated_at,
  };
}

function toKey(row: AppKeysTable): KeyRecord {
  return {
    secretId: row.secret_id, appId: row.app_id, secretSealed: row.secret_sealed, secretHash: row.secret_hash,
    status: row.status, createdAt: row.created_at, lastUsedAt: row.last_used_at,
  };
}

/** Apps and their key pairs: one aggregate, so an app and its first key are written in one transaction. */
export class AppsRepository {
  constructor(private readonly database: Database) {}

  private get db() {
    return this.database.db;
  }

  async createWithKey(app: AppRecord, key: KeyRecord): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      await trx.insertInto('apps').values({
        id: app.appId, name: app.name, status: app.status, scopes: JSON.stringify(app.scopes),
        limits: JSON.stringify(app.limits), created_at: app.createdAt, updated_at: app.updatedAt,
      }).execute();
      await trx.insertInto('app_keys').values({
        secret_id: key.secretId, app_id: key.appId, secret_sealed: key.secretSealed, secret_hash: key.secretHash,
        status: key.status, created_at: key.createdAt, last_used_at: null,
      }).execute();
    });
  }

  async get(appId: string): Promise<AppRecord | undefined> {
    const row = await this.db.selectFrom('apps').selectAll().where('id', '=', appId).executeTakeFirst();
    return row && toApp(row);
  }

  async findByName(name: string): Promise<AppRecord | undefined> {
    const row = await this.db.selectFrom('apps').selectAll().where('name', '=', name).orderBy('created_at').executeTakeFirst();
    return row && toApp(row);
  }

  async list(): Promise<AppRecord[]> {
    return (await this.db.selectFrom('apps').selectAll().orderBy('created_at').orderBy('id').execute()).map(toApp);
  }

  async update(appId: string, patch: Partial<Pick<AppRecord, 'name' | 'status' | 'scopes' | 'limits'>>, now: number): Promise<AppRecord | undefined> {
    const values: Partial<AppsTable> = { updated_at: now };
    if (patch.name !== undefined) values.name = patch.name;
    if (patch.status !== undefined) values.status = patch.status;
    if (patch.scopes !== undefined) values.scopes = JSON.stringify(patch.scopes);
    if (patch.limits !== undefined) values.limits = JSON.stringify(patch.limits);
    await this.db.updateTable('apps').set(values).where('id', '=', appId).execute();
    return this.get(appId);
  }

  /** Deletes the app, its keys and tokens (cascade); usage records stay for billing. */
  async delete(appId: string): Promise<boolean> {
    const result = await this.db.deleteFrom('apps').where('id', '=', appId).executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  }

  async addKey(key: KeyRecord): Promise<void> {
    await this.db.insertInto('app_keys').values({
      secret_id: key.secretId, app_id: key.appId, secret_sealed: key.secretSealed, secret_hash: key.secretHash,
      status: key.status, created_at: key.createdAt, last_used_at: null,
    }).execute();
  }

  async keys(appId: string): Promise<KeyRecord[]> {
    return (await this.db.selectFrom('app_keys').selectAll().where('app_id', '=', appId).orderBy('created_at').execute()).map(toKey);
  }

  async key(secretId: string): Promise<KeyRecord | undefined> {
    const row = await this.db.selectFrom('app_keys').selectAll().where('secret_id', '=', secretId).executeTakeFirst();
    return row && toKey(row);
  }

  async keyByHash(secretHash: string): Promise<KeyRecord | undefined> {
    const row = await this.db.selectFrom('app_keys').selectAll().where('secret_hash', '=', secretHash).executeTakeFirst();
    return row && toKey(row);
  }

  async setKeyStatus(secretId: string, status: KeyRecord['status']): Promise<void> {
    await this.db.updateTable('app_keys').set({ status }).where('secret_id', '=', secretId).execute();
  }

  async deleteKey(secretId: string): Promise<void> {
    await this.db.deleteFrom('app_keys').where('secret_id', '=', secretId).execute();
  }
}
