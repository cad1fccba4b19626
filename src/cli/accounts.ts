import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { loadConfig } from '../config/env.js';
import { AppError } from '../errors/app-error.js';
import type { AccountsService, AppLimits, AppRecord } from '../services/accounts/accounts.js';
import { setUpAccounts } from '../services/accounts/bootstrap.js';
import { openDatabase } from '../storage/database.js';
import { parseCommandLine, UsageError, type FlagSpec } from './args.js';

const usage = `Usage: imgsense apps create <name> [--scopes a,b] [--qps N] [--concurrency N] [--daily N] [--monthly N] [--json]
       imgsense apps list [--json]
       imgsense apps suspend|resume|delete <appId>
       imgsense keys create|rotate <appId> [--json]
       imgsense keys disable|enable|delete <appId> <secretId>
       imgsense token [--secret-id ID --secret-key KEY]

Runs against the configured database (IMGSENSE_DATA_DIR, IMGSENSE_DATABASE_URL), on the server's machine.
A running server notices changes within 5 seconds. Secret keys are printed once, when they are created.
token     an access token for the key pair given, or for the default app's in <data dir>/credentials.json
rotate    adds a second key pair; switch clients to it, then disable the old one (no downtime)
`;

const spec: FlagSpec = {
  scopes: { type: 'string' }, qps: { type: 'string' }, concurrency: { type: 'string' }, daily: { type: 'string' },
  monthly: { type: 'string' }, json: { type: 'boolean' }, 'secret-id': { type: 'string' }, 'secret-key': { type: 'string' },
};

function positiveInt(name: string, raw: string | true | undefined): number | undefined {
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) throw new UsageError(`Expected a whole number for --${name} but received ${JSON.stringify(raw)}`);
  return n;
}

function line(app: AppRecord): string {
  const limits = Object.entries(app.limits).map(([k, v]) => `${k}=${v}`).join(' ') || 'no limits';
  return `${app.appId}  ${app.name.padEnd(16)} ${app.status.padEnd(9)} scopes=${app.scopes.join(',')}  ${limits}`;
}

async function run(accounts: AccountsService, dataDir: string, command: string, argv: string[]): Promise<number> {
  const args = parseCommandLine(argv, spec);
  const [sub, a, b] = args.positionals;
  const json = args.last.json === true;
  const out = (value: unknown, text: string) => process.stdout.write(json ? `${JSON.stringify(value, null, 2)}\n` : `${text}\n`);
  const need = (value: string | undefined, what: string) => {
    if (!value) throw new UsageError(`Expected ${what}`);
    return value;
  };
  if (command === 'token') {
    let secretId = args.last['secret-id'];
    let secretKey = args.last['secret-key'];
    if (typeof secretId !== 'string' || typeof secretKey !== 'string') {
      const file = path.join(dataDir, 'credentials.json');
      ({ secretId, secretKey } = JSON.parse(await readFile(file, 'utf8')) as { secretId: string; secretKey: string });
    }
    const token = await accounts.issueToken(secretId, secretKey);
    out({ access_token: token.accessToken, expires_in: token.expiresIn, app_id: token.appId }, token.accessToken);
    return 0;
  }
  if (command === 'apps') {
    switch (sub) {
      case 'create': {
        const limits: AppLimits = {};
        for (const k of ['qps', 'concurrency', 'daily', 'monthly'] as const) {
          const v = positiveInt(k, args.last[k]);
          if (v !== undefined) limits[k] = v;
        }
        const scopes = typeof args.last.scopes === 'string' ? args.last.scopes.split(',').map((s) => s.trim()).filter(Boolean) : undefined;
        const created = await accounts.createApp({ name: need(a, 'an app name: imgsense apps create <name>'), ...(scopes && { scopes }), limits });
        out({ appId: created.appId, secretId: created.secretId, secretKey: created.secretKey },
          `appId      ${created.appId}\nsecretId   ${created.secretId}\nsecretKey  ${created.secretKey}   (shown once: store it now)`);
        return 0;
      }
      case 'list': {
        const apps = await accounts.listApps();
        out(apps, apps.map(line).join('\n') || '(no apps)');
        return 0;
      }
      case 'suspend':
      case 'resume': {
        const app = await accounts.updateApp(need(a, `an app id: imgsense apps ${sub} <appId>`), { status: sub === 'suspend' ? 'suspended' : 'active' });
        out(app, line(app));
        return 0;
      }
      case 'delete':
        await accounts.deleteApp(need(a, 'an app id: imgsense apps delete <appId>'));
        out({ deleted: a }, `deleted ${a}`);
        return 0;
    }
  }
  if (command === 'keys') {
    const appId = need(a, `an app id: imgsense keys ${sub ?? '<command>'} <appId>`);
    switch (sub) {
      case 'create':
      case 'rotate': {
        const keys = await accounts.keys(appId);
        if (sub === 'rotate' && keys.length >= 2) {
          const disabled = keys.find((k) => k.status === 'disabled');
          if (!disabled) throw new UsageError(`App ${appId} already has two active key pairs; disable the old one first (imgsense keys disable ${appId} <secretId>)`);
          await accounts.deleteKey(appId, disabled.secretId);
        }
        const created = await accounts.createKey(appId);
        const old = keys.filter((k) => k.status === 'active').map((k) => k.secretId);
        const next = sub === 'rotate' && old.length ? `\nswitch clients to it, then: imgsense keys disable ${appId} ${old[0]}` : '';
        out(created, `secretId   ${created.secretId}\nsecretKey  ${created.secretKey}   (shown once: store it now)${next}`);
        return 0;
      }
      case 'disable':
      case 'enable':
        await accounts.setKeyStatus(appId, need(b, `a SecretId: imgsense keys ${sub} <appId> <secretId>`), sub === 'disable' ? 'disabled' : 'active');
        out({ secretId: b, status: sub === 'disable' ? 'disabled' : 'active' }, `${b} ${sub}d`);
        return 0;
      case 'delete':
        await accounts.deleteKey(appId, need(b, 'a SecretId: imgsense keys delete <appId> <secretId>'));
        out({ deleted: b }, `deleted ${b}`);
        return 0;
    }
  }
  process.stdout.write(usage);
  return sub === undefined || sub === 'help' ? 0 : 2;
}

/** imgsense apps | keys | token: the operator's account commands, in-process against the database. */
export async function accountsCommand(command: string, argv: string[]): Promise<number> {
  if (argv.includes('--help')) {
    process.stdout.write(usage);
    return 0;
  }
  const config = loadConfig();
  const database = await openDatabase({ url: config.databaseUrl, dataDir: config.dataDir });
  try {
    const { accounts, notices } = await setUpAccounts(config, database);
    for (const n of notices) process.stderr.write(`imgsense: ${n}\n`);
    return await run(accounts, config.dataDir, command, argv);
  } catch (err) {
    if (err instanceof UsageError || err instanceof AppError) {
      process.stderr.write(`imgsense: ${err.message}\n`);
      return err instanceof UsageError ? 2 : 1;
    }
    throw err;
  } finally {
    await database.close();
  }
}
