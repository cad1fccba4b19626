import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { AccountsService } from '../../src/services/accounts/accounts.js';
import { Sealer, sha256Hex } from '../../src/services/accounts/secrets.js';
import { openDatabase, type Database } from '../../src/storage/database.js';
import { AppsRepository } from '../../src/storage/apps.js';
import { TokensRepository } from '../../src/storage/tokens.js';
import { createTestDatabase, databaseKinds, type TestDatabase } from '../helpers/databases.js';

for (const { kind, skip } of await databaseKinds('accounts: apps, keys, tokens repositories')) {
  describe(`accounts on ${kind}`, { skip }, () => {
    let target: TestDatabase;
    let database: Database;
    let accounts: AccountsService;
    before(async () => {
      target = await createTestDatabase(kind);
      database = await openDatabase({ url: target.url, dataDir: target.dataDir });
      accounts = new AccountsService(new AppsRepository(database), new TokensRepository(database), new Sealer(Buffer.alloc(32, 1).toString('base64')), 3600);
    });
    after(async () => {
      await database?.close();
      await target?.drop();
    });

    it('stores secret keys sealed and tokens hashed, never in plain text', async () => {
      const app = await accounts.createApp({ name: 'a', scopes: ['vision.*'], limits: { qps: 3, daily: 10 } });
      const key = await database.db.selectFrom('app_keys').selectAll().where('secret_id', '=', app.secretId).executeTakeFirstOrThrow();
      assert.ok(!key.secret_sealed.includes(app.secretKey));
      assert.equal(key.secret_hash, sha256Hex(app.secretKey));
      assert.equal((await accounts.keyBySecretId(app.secretId))!.secretKey, app.secretKey);
      const token = await accounts.issueToken(app.secretId, app.secretKey);
      const rows = await database.db.selectFrom('access_tokens').selectAll().execute();
      assert.ok(rows.every((r) => r.token_hash !== token.accessToken && !JSON.stringify(r).includes(token.accessToken)));
      assert.deepEqual((await accounts.app(app.appId)).limits, { qps: 3, daily: 10 });
    });

    it('two key pairs at most; deleting an app removes its keys and tokens', async () => {
      const app = await accounts.createApp({ name: 'b' });
      await accounts.createKey(app.appId);
      await assert.rejects(accounts.createKey(app.appId), { code: 'LimitExceeded.AccessKeyCount' });
      const token = await accounts.issueToken(app.secretId, app.secretKey);
      await accounts.setKeyStatus(app.appId, app.secretId, 'disabled');
      await assert.rejects(accounts.issueToken(app.secretId, app.secretKey), { code: 'AuthFailure.InvalidClient' });
      await accounts.deleteApp(app.appId);
      assert.equal(await accounts.tokenByHash(sha256Hex(token.accessToken)), undefined);
      assert.equal(await accounts.keyBySecretId(app.secretId), undefined);
      await assert.rejects(accounts.app(app.appId), { code: 'ResourceNotFound.App' });
    });

    it('a key of one app cannot be changed through another app', async () => {
      const a = await accounts.createApp({ name: 'c' });
      const b = await accounts.createApp({ name: 'd' });
      await assert.rejects(accounts.setKeyStatus(b.appId, a.secretId, 'disabled'), { code: 'ResourceNotFound.AccessKey' });
      assert.equal(await accounts.revokeToken(b.appId, (await accounts.issueToken(a.secretId, a.secretKey)).accessToken), false);
    });
  });
}
