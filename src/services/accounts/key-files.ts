import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';

/**
 * A secret the operator may set in the environment, or else one generated once and kept in the data dir
 * (mode 0600). `created` tells the caller to print where it went, once.
 */
export function loadOrCreateSecret(dataDir: string, file: string, configured: string, generate: () => string): { value: string; path?: string; created: boolean } {
  if (configured) return { value: configured, created: false };
  const full = path.join(dataDir, file);
  try {
    return { value: fs.readFileSync(full, 'utf8').trim(), path: full, created: false };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  fs.mkdirSync(dataDir, { recursive: true });
  const value = generate();
  writePrivateFile(full, `${value}\n`);
  return { value, path: full, created: true };
}

/** Writes a file only the owner can read, atomically, and durably (it holds credentials nobody can regenerate). */
export function writePrivateFile(full: string, content: string): void {
  const tmp = `${full}.${process.pid}.tmp`;
  const fd = fs.openSync(tmp, 'w', 0o600);
  try {
    fs.writeSync(fd, content);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, full);
  fs.chmodSync(full, 0o600);
}

export const generateAdminKey = () => `isk_admin_${randomBytes(24).toString('base64url')}`;
export const generateMasterKey = () => randomBytes(32).toString('base64');
