import { createReadStream, type ReadStream } from 'node:fs';
import { mkdir, open, readFile, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import type { TileStore } from '../services/upscale.js';

const idPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** fsync of a directory makes a new entry in it (a file, a sub-folder) survive a crash, not only its bytes. */
async function syncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * A job's files under <data dir>/jobs/<id>/: `input` (the image as received), `tiles/<n>.raw` (finished tiles,
 * 8-bit RGB, for resume) and `result` (the encoded image). Results never go into the database.
 */
export class JobFiles {
  constructor(readonly root: string) {}

  dir(id: string): string {
    // Ids come from randomUUID; anything else is refused before it can name a path.
    if (!idPattern.test(id)) throw new Error(`not a job id: ${JSON.stringify(id)}`);
    return path.join(this.root, id);
  }

  /** Writes and fsyncs the input (and the directory entries leading to it): a 202 must survive kill -9. */
  async writeInput(id: string, bytes: Buffer): Promise<void> {
    const dir = this.dir(id);
    await mkdir(dir, { recursive: true });
    const handle = await open(path.join(dir, 'input'), 'w');
    try {
      await handle.writeFile(bytes);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await syncDir(dir);
    await syncDir(this.root);
  }

  async readInput(id: string): Promise<Buffer | undefined> {
    try {
      return await readFile(path.join(this.dir(id), 'input'));
    } catch {
      return undefined;
    }
  }

  /**
   * Finished tiles, written to a temporary name and renamed, so a tile file is whole or absent. A tile lost in a
   * crash is simply run again (the service checks the size too).
   */
  tiles(id: string): TileStore {
    const dir = path.join(this.dir(id), 'tiles');
    let made = false;
    return {
      load: async (index) => {
        try {
          const b = await readFile(path.join(dir, `${index}.raw`));
          return new Uint8Array(b.buffer, b.byteOffset, b.length);
        } catch {
          return undefined;
        }
      },
      save: async (index, bytes) => {
        if (!made) await mkdir(dir, { recursive: true });
        made = true;
        const file = path.join(dir, `${index}.raw`);
        const handle = await open(`${file}.tmp`, 'w');
        try {
          await handle.writeFile(bytes);
        } finally {
          await handle.close();
        }
        await rename(`${file}.tmp`, file);
      },
    };
  }

  async writeResult(id: string, data: Buffer): Promise<void> {
    const file = path.join(this.dir(id), 'result');
    const handle = await open(`${file}.tmp`, 'w');
    try {
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(`${file}.tmp`, file);
  }

  async openResult(id: string): Promise<{ stream: ReadStream; bytes: number } | undefined> {
    const file = path.join(this.dir(id), 'result');
    try {
      const { size } = await stat(file);
      return { stream: createReadStream(file), bytes: size };
    } catch {
      return undefined;
    }
  }

  /** Drops what only a running job needs (input, tiles), keeping the result. */
  async removeWork(id: string): Promise<void> {
    const dir = this.dir(id);
    await rm(path.join(dir, 'tiles'), { recursive: true, force: true });
    await rm(path.join(dir, 'input'), { force: true });
  }

  async remove(id: string): Promise<void> {
    await rm(this.dir(id), { recursive: true, force: true });
  }
}
