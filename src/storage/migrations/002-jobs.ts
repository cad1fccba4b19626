import type { Kysely, Migration } from 'kysely';

/** Async jobs (issue 6): one row per job; inputs, tiles and results live in <data dir>/jobs/<id>/, not here. */
export const jobsMigration: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .createTable('jobs')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('app_id', 'text', (c) => c.notNull())
      .addColumn('kind', 'text', (c) => c.notNull())
      .addColumn('state', 'text', (c) => c.notNull())
      .addColumn('params', 'text', (c) => c.notNull())
      .addColumn('tiles_done', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('tiles_total', 'integer', (c) => c.notNull())
      .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('started_at', 'bigint')
      .addColumn('finished_at', 'bigint')
      .addColumn('expires_at', 'bigint')
      .addColumn('error_code', 'text')
      .addColumn('error_message', 'text')
      .addColumn('result', 'text')
      .execute();
    await db.schema.createIndex('jobs_state_created').on('jobs').columns(['state', 'created_at']).execute();
    await db.schema.createIndex('jobs_expires').on('jobs').column('expires_at').execute();
  },
  async down(db: Kysely<unknown>): Promise<void> {
    await db.schema.dropTable('jobs').execute();
  },
};
