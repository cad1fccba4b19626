#!/usr/bin/env node
import { runCli } from './cli/index.js';

// `imgsense models list | head` closes the pipe early; that is the reader's choice, not an error.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(0);
  throw err;
});

runCli(process.argv.slice(2)).then(
  (code) => {
    if (code !== undefined) process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`imgsense: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
