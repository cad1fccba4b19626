import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { startChildServer, type ChildServer } from '../helpers/child-server.js';
import { fixture } from '../helpers/fixtures.js';
import { postForm } from '../helpers/server.js';

function startChild(dataDir: string): Promise<ChildServer> {
  return startChildServer({
    IMGSENSE_DATA_DIR: dataDir, IMGSENSE_AUTH: 'off',
    IMGSENSE_ADMIN_KEY: 'restart-test-admin-key-0123456789', IMGSENSE_MASTER_KEY: Buffer.alloc(32, 3).toString('base64'),
    // Every input is a job, cut into many small tiles, run by one thread: slow enough to be killed mid-job.
    IMGSENSE_UPSCALE_SYNC_MAX_PIXELS: '0', IMGSENSE_UPSCALE_TILE_SIZE: '16', IMGSENSE_JOB_THREADS: '1',
  });
}

interface JobBody { state: string; progress: { done: number; total: number }; error: { code: string; message: string } | null; result: { width: number; height: number } | null }

test('kill -9 mid-job: after a restart on the same data dir every 202\'d job is known and the interrupted one completes', async () => {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'imgsense-restart-'));
  const image = await sharp(fixture('objects/dog.jpg')).resize(96, 72, { fit: 'cover' }).png().toBuffer();
  const first = await startChild(dataDir);
  let second: ChildServer | undefined;
  let url = first.url;
  try {
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const res = await postForm(url, '/v1/images/upscale', image, { scale: '2', model: 'thick' });
      assert.equal(res.status, 202, await res.clone().text());
      ids.push(((await res.json()) as { jobId: string }).jobId);
    }
    // Kill as soon as the first job has finished some tiles but not all.
    let seen: JobBody | undefined;
    for (let i = 0; i < 600; i++) {
      seen = (await (await fetch(`${url}/v1/jobs/${ids[0]}`)).json()) as JobBody;
      if (seen.state === 'running' && seen.progress.done > 0) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    first.child.kill('SIGKILL');
    await first.exit;
    assert.equal(seen?.state, 'running', `the first job was not caught running: ${JSON.stringify(seen)}\n${first.log().slice(-2000)}`);
    const tilesDir = path.join(dataDir, 'jobs', ids[0]!, 'tiles');
    const saved = existsSync(tilesDir) ? readdirSync(tilesDir).filter((f) => f.endsWith('.raw')).length : 0;
    assert.ok(saved > 0 && saved < seen!.progress.total, `tiles on disk at the kill: ${saved} of ${seen!.progress.total}`);

    // The same data dir (database, job files); the helper picks a fresh port.
    second = await startChild(dataDir);
    url = second.url;
    for (const id of ids) {
      let body: JobBody;
      for (;;) {
        const res = await fetch(`${url}/v1/jobs/${id}`);
        assert.equal(res.status, 200, `job ${id} is unknown after the restart`);
        body = (await res.json()) as JobBody;
        if (!['queued', 'running'].includes(body.state)) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      assert.equal(body.state, 'succeeded', `${id}: ${JSON.stringify(body)}\n${second.log().slice(-2000)}`);
      assert.deepEqual([body.result?.width, body.result?.height], [192, 144]);
    }
    assert.match(second.log(), /resuming job interrupted by a restart/);
    const result = await fetch(`${url}/v1/jobs/${ids[0]}/result`);
    assert.equal(result.status, 200);
    const meta = await sharp(Buffer.from(await result.arrayBuffer())).metadata();
    assert.deepEqual([meta.width, meta.height], [192, 144]);
  } finally {
    if (first.child.exitCode === null) first.child.kill('SIGKILL');
    if (second && second.child.exitCode === null) {
      second.child.kill('SIGKILL');
      await second.exit;
    }
    rmSync(dataDir, { recursive: true, force: true });
  }
});
