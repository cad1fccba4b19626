import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Config } from '../config/env.js';
import { createServices, type Services } from '../services/create.js';
import { loadCliConfig } from './args.js';

/**
 * What the recognition commands (faces, segment) share: the services built from the operator's environment,
 * as the server builds them, and the image files of a folder.
 */
export function openRecognitionServices(env: NodeJS.ProcessEnv = process.env): { config: Config; services: Services } {
  const config = loadCliConfig(env);
  return { config, services: createServices(config) };
}

export const isDir = (p: string) => stat(p).then((s) => s.isDirectory(), () => false);

const imageExtensions = new Set(['.jpg', '.jpeg', '.png', '.gif', '.webp', '.tif', '.tiff', '.bmp', '.avif']);

/** Image files (by extension) of a folder, sorted, hidden ones skipped; sub-folders when recursive. */
export async function listImageFiles(root: string, recursive: boolean, rel = ''): Promise<string[]> {
  const entries = await readdir(path.join(root, rel), { withFileTypes: true });
  const out: string[] = [];
  for (const e of entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    if (e.name.startsWith('.')) continue;
    const relPath = path.join(rel, e.name);
    if (e.isDirectory()) {
      if (recursive) out.push(...(await listImageFiles(root, recursive, relPath)));
    } else if (imageExtensions.has(path.extname(e.name).toLowerCase())) {
      out.push(relPath);
    }
  }
  return out;
}

/** Output format from a file name: .png, .webp, else JPEG. */
export function formatFromName(file: string): 'png' | 'jpeg' | 'webp' {
  const ext = path.extname(file).toLowerCase();
  return ext === '.png' ? 'png' : ext === '.webp' ? 'webp' : 'jpeg';
}
