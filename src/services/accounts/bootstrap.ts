import fs from 'node:fs';
import path from 'node:path';
import type { Config } from '../../config/env.js';
import type { Database } from '../../storage/database.js';
import { AppsRepository } from '../../storage/apps.js';
import { TokensRepository } from '../../storage/tokens.js';
import { AccountsService } from './accounts.js';
import { generateAdminKey, generateMasterKey, loadOrCreateSecret, writePrivateFile } from './key-files.js';
import { Sealer } from './secrets.js';

export interface AccountsSetup {
  accounts: AccountsService;
  adminKey: string;
  /** Lines for the operator, printed once (where a generated key or the default credentials went). */
  notices: string[];
  /** The default app's credentials, on the start that created them. */
  created?: { appId: string; secretId: string; secretKey: string; accessToken: string };
}

export const defaultAppName = 'default';

/**
 * Keys and the first app. On an empty data dir the server creates a `default` app with every scope and writes
 * its credentials to <data dir>/credentials.json (0600), so the quick start works with no setup.
 */
export async function setUpAccounts(config: Config, database: Database, onChange?: (appId: string) => void): Promise<AccountsSetup> {
  // The key files and credentials.json live here, whether or not the keys come from the environment.
  fs.mkdirSync(config.dataDir, { recursive: true });
  const notices: string[] = [];
  let created: AccountsSetup['created'];
  const master = loadOrCreateSecret(config.dataDir, 'master.key', config.auth.masterKey, generateMasterKey);
  if (master.created) notices.push(`generated the master key that seals stored secret keys: ${master.path} (back it up with the database)`);
  const admin = loadOrCreateSecret(config.dataDir, 'admin.key', config.auth.adminKey, generateAdminKey);
  if (admin.created) notices.push(`generated the operator key for /v1/admin: ${admin.path}`);
  const accounts = new AccountsService(
    new AppsRepository(database), new TokensRepository(database), new Sealer(master.value), config.auth.tokenTtlSeconds, onChange,
  );
  if ((await accounts.listApps()).length === 0) {
    const app = await accounts.createApp({ name: defaultAppName, scopes: ['*'] });
    const token = await accounts.issueToken(app.secretId, app.secretKey);
    created = { appId: app.appId, secretId: app.secretId, secretKey: app.secretKey, accessToken: token.accessToken };
    const file = path.join(config.dataDir, 'credentials.json');
    writePrivateFile(file, `${JSON.stringify({
      ...created, accessTokenExpiresAt: new Date(Date.now() + token.expiresIn * 1000).toISOString(),
    }, null, 2)}\n`);
    notices.push(`created the default app ${app.appId}; its credentials and an access token are in ${file}`);
  }
  return { accounts, adminKey: admin.value, notices, created };
}
