import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';

export async function freePort(): Promise<number> {
  const s = createServer();
  s.listen(0, '127.0.0.1');
  await once(s, 'listening');
  const { port } = s.address() as { port: number };
  s.close();
  return port;
}

export async function waitReady(url: string): Promise<void> {
  for (let i = 0; i < 300; i++) {
    try {
      if ((await fetch(`${url}/readyz`)).status === 200) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('server did not become ready');
}

export interface ChildServer {
  url: string;
  child: ChildProcessWithoutNullStreams;
  /** Everything it printed so far. */
  log(): string;
  /** Resolves with the exit code (or signal) when the process ends, however it ends. */
  exit: Promise<number | string | null>;
}

/** `imgsense serve` as a real process, the way an operator runs it, ready to take requests. */
export async function startChildServer(env: Record<string, string>): Promise<ChildServer> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', 'serve'], {
    // The developer's own IMGSENSE_* settings must not leak into a test server.
    env: { ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('IMGSENSE_'))), LOG_LEVEL: 'info', ...env, PORT: String(port) },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let log = '';
  child.stdout.on('data', (d) => { log += d; });
  child.stderr.on('data', (d) => { log += d; });
  const exit = once(child, 'exit').then(([code, signal]) => (code ?? signal) as number | string | null);
  let ready = false;
  await Promise.race([waitReady(url).then(() => { ready = true; }), exit.then(() => {
    if (!ready) throw new Error(`server exited early:\n${log}`);
  })]);
  return { url, child, log: () => log, exit };
}
