import type { Database } from './database.js';

export interface TokenRecord {
  id: string;
  appId: string;
  secretId: string;
  tokenHash: string;
  createdAt: number;
  expiresAt: number;
  revokedAt: number | null;
}

/** Access tokens, stored only as hashes. */
export class TokensRepository {
  constructor(private readonly database: Database) {}

  async insert(token: TokenRecord): Promise<void> {
    await this.database.db.insertInto('access_tokens').values({
      id: token.id, app_id: token.appId, secret_id: token.secretId, token_hash: token.tokenHash,
      created_at: token.createdAt, expires_at: token.expiresAt, revoked_at: null,
    }).execute();
  }

  async byHash(tokenHash: string): Promise<TokenRecord | undefined> {
    const row = await this.database.db.selectFrom('access_tokens').selectAll().where('token_hash', '=', tokenHash).executeTakeFirst();
    return row && {
      id: row.id, appId: row.app_id, secretId: row.secret_id, tokenHash: row.token_hash,
      createdAt: row.created_at, expiresAt: row.expires_at, revokedAt: row.revoked_at,
    };
  }

  /** Revokes one token of an app (by hash); false when the app has no such token. */
  async revoke(appId: string, tokenHash: string, now: number): Promise<boolean> {
    const result = await this.database.db.updateTable('access_tokens').set({ revoked_at: now })
      .where('app_id', '=', appId).where('token_hash', '=', tokenHash).where('revoked_at', 'is', null).executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }
}
