import type { Config } from '../config/env.js';
import { openDatabase, type Database } from '../storage/database.js';
import type { AccountsService } from './accounts/accounts.js';
import { Authenticator } from './accounts/authenticator.js';
import { RateLimiter } from './accounts/limiter.js';
import { setUpAccounts } from './accounts/bootstrap.js';
import { createServices, type Services } from './create.js';
import { loadPrices } from '../config/prices.js';
import { UsageRepository } from '../storage/usage.js';
import { UsageMeter } from './accounts/usage-meter.js';
import { UsageReports } from './accounts/usage-reports.js';
import path from 'node:path';
import { pino } from 'pino';
import { EmbeddedJobQueue } from '../jobs/embedded.js';
import { JobFiles } from '../jobs/files.js';
import type { JobQueue } from '../jobs/queue.js';
import { upscaleJob } from '../jobs/upscale-job.js';
import { JobRepository } from '../storage/jobs.js';

/** What a server process runs on: the compute services plus the database and what lives in it. */
export interface ServerServices extends Services {
  database: Database;
  accounts: AccountsService;
  /** Async work (upscale), persisted in the database; started (and interrupted jobs resumed) on creation. */
  jobs: JobQueue;
  adminKey: string;
  authenticator: Authenticator;
  limiter: RateLimiter;
  /** The app that IMGSENSE_AUTH=off serves every call as: the default app. */
  openAppId: string;
  /** Operator notices from the first start (generated keys, default credentials), printed once. */
  notices: string[];
  /** The default app's credentials when this start created them (an empty database). */
  defaultCredentials?: { appId: string; secretId: string; secretKey: string; accessToken: string };
  /** Metering and billing: usage lines are batched by the meter; reports and bills read them back. */
  usageMeter: UsageMeter;
  usage: UsageReports;
  close(): Promise<void>;
}

export async function createServerServices(config: Config): Promise<ServerServices> {
  const services = createServices(config);
  const prices = loadPrices(config.usage.pricesFile); // a bad price file stops the start before the database opens
  const database = await openDatabase({ url: config.databaseUrl, dataDir: config.dataDir });
  try {
    let authenticator: Authenticator | undefined;
    const { accounts, adminKey, notices, created } = await setUpAccounts(config, database, (appId) => authenticator?.invalidate(appId));
    authenticator = new Authenticator(accounts, { signatureMaxSkewSeconds: config.auth.signatureMaxSkewSeconds });
    const usageRecords = new UsageRepository(database);
    const usageMeter = new UsageMeter(usageRecords, { flushMs: config.usage.flushMs });
    // Quota counters start from the usage records after a restart.
    const limiter = new RateLimiter(undefined, (appId, action, since) => usageRecords.countSince(appId, action, since));
    const openAppId = (await accounts.findAppByName('default'))?.appId ?? 'default';
    const jobs = new EmbeddedJobQueue({
      repo: new JobRepository(database.db), files: new JobFiles(path.join(config.dataDir, 'jobs')),
      handlers: { upscale: upscaleJob(services.upscale, services.jobInference) },
      concurrency: config.jobs.concurrency, resultTtlMs: config.jobs.resultTtlSeconds * 1000, maxQueued: config.jobs.maxQueued,
      // The queue starts before the HTTP server exists: its own pino logger, same JSON lines.
      log: pino({ level: config.logLevel, base: { component: 'jobs' } }),
    });
    await jobs.start();
    return {
      ...services, database, accounts, adminKey, notices, defaultCredentials: created, authenticator, limiter, openAppId, jobs,
      usageMeter, usage: new UsageReports(usageRecords, prices),
      close: async () => {
        await jobs.close();
        await services.jobInference.close();
        // After the HTTP server has drained (fastify closes it before onClose hooks), so every line is in.
        await usageMeter.close();
        await services.inference.close();
        await database.close();
      },
    };
  } catch (error) {
    await database.close();
    throw error;
  }
}
