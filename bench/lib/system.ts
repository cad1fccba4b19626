import { readFileSync } from 'node:fs';

/** Busy and total jiffies of all CPUs from /proc/stat (USER_HZ = 100 on Linux). */
export function cpuJiffies(): { busy: number; total: number } | undefined {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n')[0]!;
    const v = line.trim().split(/\s+/).slice(1).map(Number);
    const total = v.reduce((a, b) => a + b, 0);
    const idle = (v[3] ?? 0) + (v[4] ?? 0);
    return { busy: total - idle, total };
  } catch {
    return undefined;
  }
}

/** Cores' worth of CPU used by everything but `ownCpuMs` over a window (ms of wall time). */
export function othersCores(before: ReturnType<typeof cpuJiffies>, after: ReturnType<typeof cpuJiffies>, wallMs: number, ownCpuMs: number): number | undefined {
  if (!before || !after || wallMs <= 0) return undefined;
  const busyMs = (after.busy - before.busy) * 10;
  return Math.max(0, (busyMs - ownCpuMs) / wallMs);
}

/**
 * Waits up to maxSeconds for the machine to be idle (others using under `threshold` cores over a 1 s window).
 * Returns the seconds waited and the last window's load.
 */
export async function waitForIdle(maxSeconds: number, threshold = 0.3): Promise<{ waited: number; others: number | undefined }> {
  const start = performance.now();
  let others: number | undefined;
  do {
    const a = cpuJiffies();
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    await new Promise((r) => setTimeout(r, 1000));
    const cpu = process.cpuUsage(cpu0);
    others = othersCores(a, cpuJiffies(), performance.now() - t0, (cpu.user + cpu.system) / 1000);
    if (others === undefined || others < threshold) break;
  } while ((performance.now() - start) / 1000 < maxSeconds);
  return { waited: (performance.now() - start) / 1000, others };
}
