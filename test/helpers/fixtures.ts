import { readFileSync } from 'node:fs';

export const fixturesDir = new URL('../../../shared/fixtures/', import.meta.url);

export interface FixtureEntry {
  path: string;
  format?: string;
  width?: number;
  height?: number;
  frames?: number;
  orientation?: number;
  oriented_width?: number;
  oriented_height?: number;
  has_alpha?: boolean;
  expect: 'ok' | 'error';
  reason?: string;
}

export const manifest: { files: FixtureEntry[] } = JSON.parse(readFileSync(new URL('manifest.json', fixturesDir), 'utf8'));

export function fixture(path: string): Buffer {
  return readFileSync(new URL(path, fixturesDir));
}

export function entry(path: string): FixtureEntry {
  const found = manifest.files.find((f) => f.path === path);
  if (!found) throw new Error(`fixture ${path} is not in the manifest`);
  return found;
}
