import type { Migration } from 'kysely';
import { accounts } from './001-accounts.js';
import { jobsMigration } from './002-jobs.js';

/** Every migration, by name; names sort in the order they run. Never edit one that has shipped: add the next. */
export const migrations: Record<string, Migration> = {
  '001_accounts': accounts,
  '002_jobs': jobsMigration,
};
