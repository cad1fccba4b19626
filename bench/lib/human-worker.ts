/**
 * One reference process: @vladmandic/human on TF.js wasm (single-threaded in Node), caching off, running
 * human.detect on each image in turn (sharp decode included, as the API decodes too) for a fixed time.
 * argv[2]: JSON { config, images: absolute paths, seconds }. Writes "ready" to stderr once loaded and warm, starts
 * timing when a line arrives on stdin (so that several processes measure the same window), then prints JSON
 * { count, latencies, cpuMs } on stdout (cpuMs: the process's CPU time over the timed loop).
 */
import { readFileSync } from 'node:fs';
import { createHuman } from '../../test/helpers/human-reference.js';

const { config, images, seconds } = JSON.parse(process.argv[2]!) as { config: Record<string, unknown>; images: string[]; seconds: number };
const human = await createHuman(config);
const bytes = images.map((p) => readFileSync(p));
for (const b of bytes) await human.detect(b); // warm-up pass
process.stderr.write('ready\n');
await new Promise<void>((resolve) => process.stdin.once('data', () => resolve()));
const latencies: number[] = [];
const cpu0 = process.cpuUsage();
const end = performance.now() + seconds * 1000;
for (let i = 0; performance.now() < end; i++) {
  const t = performance.now();
  await human.detect(bytes[i % bytes.length]!);
  latencies.push(performance.now() - t);
}
const cpu = process.cpuUsage(cpu0);
process.stdout.write(JSON.stringify({ count: latencies.length, latencies, cpuMs: (cpu.user + cpu.system) / 1000 }));
process.exit(0);
