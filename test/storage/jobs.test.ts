import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { EmbeddedJobQueue } from '../../src/jobs/embedded.js';
import { JobFiles } from '../../src/jobs/files.js';
import type { JobHandler } from '../../src/jobs/queue.js';
import { openDatabase, type Database } from '../../src/storage/database.js';
import { JobRepository } from '../../src/storage/jobs.js';
import { AppError } from '../../src/errors/app-error.js';
import { createTestDatabase, databaseKinds, type TestDatabase } from '../helpers/databases.js';

/** A handler that "runs" `total` tiles, saving each, and can be held at a tile. */
function fakeHandler(opts: { holdAt?: number; fail?: Error } = {}): { handler: JobHandler; ran: number[]; release: () => void } {
  const ran: number[] = [];
  let release = () => {};
  const gate = new Promise<void>((r) => { release = r; });
  const handler: JobHandler = async (ctx) => {
    const total = 4;
    for (let i = 0; i < total; i++) {
      if (await ctx.tiles.load(i)) { ctx.onProgress(i + 1, total); continue; }
      if (ctx.signal.aborted) throw ctx.signal.reason;
      if (i === opts.holdAt) await Promise.race([gate, new Promise((_r, reject) => ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason)))]);
      if (opts.fail) throw opts.fail;
      ran.push(i);
      await ctx.tiles.save(i, Uint8Array.of(i));
      ctx.onProgress(i + 1, total);
    }
    return { data: Buffer.from('result'), format: 'png', contentType: 'image/png', width: 2, height: 2 };
  };
  return { handler, ran, release: () => release() };
}

for (const { kind, skip } of await databaseKinds('jobs: repository and embedded queue')) {
  describe(`jobs on ${kind}`, { skip }, () => {
    let target: TestDatabase;
    let database: Database;
    let repo: JobRepository;
    let files: JobFiles;
    before(async () => {
      target = await createTestDatabase(kind);
      database = await openDatabase({ url: target.url, dataDir: target.dataDir });
      repo = new JobRepository(database.db);
      files = new JobFiles(path.join(target.dataDir, 'jobs'));
    });
    after(async () => {
      await database?.close();
      await target?.drop();
    });

    const queue = (handler: JobHandler, ttl = 60_000) => new EmbeddedJobQueue({ repo, files, handlers: { upscale: handler }, concurrency: 1, resultTtlMs: ttl, maxQueued: 5, sweepEveryMs: 3_600_000 });

    it('repository: conditional state changes decide races; timestamps read back as numbers', async () => {
      const now = Date.now();
      await repo.insert({ id: 'j1', appId: 'a', kind: 'upscale', params: { scale: 2 }, tilesTotal: 9, createdAt: now });
      assert.equal(await repo.countActive(), 1);
      assert.equal(await repo.claim('j1', now + 1), true);
      assert.equal(await repo.claim('j1', now + 2), false, 'a job is claimed once');
      await repo.progress('j1', 3);
      const running = await repo.get('j1');
      assert.deepEqual([running?.state, running?.tilesDone, running?.startedAt, running?.attempts, running?.params], ['running', 3, now + 1, 1, { scale: 2 }]);
      assert.equal(await repo.finish('j1', { state: 'cancelled', finishedAt: now + 3, expiresAt: now + 10 }), true);
      assert.equal(await repo.finish('j1', { state: 'succeeded', finishedAt: now + 4, expiresAt: now + 10 }), false, 'a cancelled job is not later succeeded');
      assert.deepEqual(await repo.expired(now + 9), []);
      assert.deepEqual(await repo.expired(now + 10), ['j1']);
      await repo.delete('j1');
      assert.equal(await repo.get('j1'), undefined);
    });

    it('queue: submit stores the input first, runs it, keeps the result; another app sees nothing', async () => {
      const fake = fakeHandler();
      const q = queue(fake.handler);
      await q.start();
      const job = await q.submit({ appId: 'a', kind: 'upscale', params: { scale: 2 }, input: Buffer.from('img'), total: 4 });
      assert.equal(job.state, 'queued');
      for (let i = 0; i < 200 && (await q.get('a', job.id))?.state !== 'succeeded'; i++) await new Promise((r) => setTimeout(r, 10));
      const done = await q.get('a', job.id);
      assert.equal(done?.state, 'succeeded');
      assert.deepEqual(done?.progress, { done: 4, total: 4 });
      assert.equal(await q.get('b', job.id), undefined);
      const result = await q.openResult('a', job.id);
      assert.equal(result.contentType, 'image/png');
      result.stream.destroy();
      await q.close(); // waits for the run to settle, clean-up included
      assert.equal(existsSync(path.join(files.dir(job.id), 'input')), false, 'the input is dropped once the job is done');
    });

    it('queue: a result past its TTL is 410 (JobExpired) until the sweep deletes files and row; then unknown', async () => {
      const q = queue(fakeHandler().handler, 50);
      await q.start();
      const job = await q.submit({ appId: 'a', kind: 'upscale', params: {}, input: Buffer.from('img'), total: 4 });
      for (let i = 0; i < 200 && (await q.get('a', job.id))?.state !== 'succeeded'; i++) await new Promise((r) => setTimeout(r, 10));
      await new Promise((r) => setTimeout(r, 60));
      await assert.rejects(q.openResult('a', job.id), (e: AppError) => e.code === 'ResourceUnavailable.JobExpired' && e.status === 410);
      assert.ok(await q.sweep() >= 1);
      assert.equal(await q.get('a', job.id), undefined);
      assert.equal(existsSync(files.dir(job.id)), false);
      await assert.rejects(q.openResult('a', job.id), (e: AppError) => e.code === 'ResourceNotFound.Job');
      await q.close();
    });

    it('queue: a job interrupted mid-run resumes after its last saved tile in a new queue; failures carry the code', async () => {
      const first = fakeHandler({ holdAt: 2 });
      const q1 = queue(first.handler);
      await q1.start();
      const job = await q1.submit({ appId: 'a', kind: 'upscale', params: {}, input: Buffer.from('img'), total: 4 });
      for (let i = 0; i < 200 && first.ran.length < 2; i++) await new Promise((r) => setTimeout(r, 10));
      await q1.close(); // as a restart: the row stays 'running'
      assert.equal((await repo.get(job.id))?.state, 'running');

      const second = fakeHandler();
      const q2 = queue(second.handler);
      await q2.start();
      for (let i = 0; i < 200 && (await q2.get('a', job.id))?.state !== 'succeeded'; i++) await new Promise((r) => setTimeout(r, 10));
      assert.equal((await q2.get('a', job.id))?.state, 'succeeded');
      assert.deepEqual(first.ran, [0, 1]);
      assert.deepEqual(second.ran, [2, 3], 'only the tiles not saved before the restart ran');
      await q2.close();

      const bad = queue(fakeHandler({ fail: new AppError('FailedOperation.ImageDecodeFailed', 'The png image could not be decoded') }).handler);
      await bad.start();
      const failed = await bad.submit({ appId: 'a', kind: 'upscale', params: {}, input: Buffer.from('img'), total: 4 });
      for (let i = 0; i < 200 && (await bad.get('a', failed.id))?.state !== 'failed'; i++) await new Promise((r) => setTimeout(r, 10));
      assert.deepEqual((await bad.get('a', failed.id))?.error, { code: 'FailedOperation.ImageDecodeFailed', message: 'The png image could not be decoded' });
      await bad.close();
    });
  });
}
