#!/usr/bin/env node
// Runs the compiled CLI when `npm run build` (or `npm start`) has produced dist/, else the TypeScript source.
import { existsSync } from 'node:fs';

const dist = new URL('../dist/main.js', import.meta.url);
if (existsSync(dist)) {
  await import(dist.href);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import(new URL('../src/main.ts', import.meta.url).href);
}
