import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { UsageMeter, type MeterLog, type UsageLine, type UsageRecord, type UsageSink } from '../../src/services/accounts/usage-meter.js';

/** A sink that stores batches, and can be told to fail or to hold a write open. */
class FakeSink implements UsageSink {
  stored: UsageRecord[] = [];
  batches: number[] = [];
  failNext = 0;
  gate: Promise<void> | undefined;
  inFlight = 0;
  maxInFlight = 0;
  async insertMany(records: readonly UsageRecord[]): Promise<void> {
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    try {
      await this.gate;
      await new Promise((r) => setImmediate(r));
      if (this.failNext > 0) {
        this.failNext--;
        throw new Error('database unavailable');
      }
      this.batches.push(records.length);
      this.stored.push(...records);
    } finally {
      this.inFlight--;
    }
  }
}

class MemoryLog implements MeterLog {
  lines: { level: string; msg: string; obj: Record<string, unknown> }[] = [];
  warn(obj: object, msg: string) { this.lines.push({ level: 'warn', msg, obj: obj as Record<string, unknown> }); }
  error(obj: object, msg: string) { this.lines.push({ level: 'error', msg, obj: obj as Record<string, unknown> }); }
}

const line = (i: number): UsageLine => ({
  requestId: `r${i}`, appId: 'app', secretId: null, action: 'images.info', units: 1, outcome: 'success', status: 200, latencyMs: 1,
});

/** Waits for a condition driven by the meter's own timers (no fixed sleeps: the test is about order, not time). */
async function until(condition: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 2000 && !condition(); i++) await new Promise((r) => setTimeout(r, 5));
  assert.ok(condition(), what);
}

describe('usage meter', () => {
  it('record returns at once, before anything is written; the timer writes it', async () => {
    const sink = new FakeSink();
    const meter = new UsageMeter(sink, { flushMs: 10, log: new MemoryLog() });
    meter.record(line(1));
    assert.equal(sink.stored.length, 0, 'nothing written synchronously');
    assert.equal(meter.backlog, 1);
    await until(() => sink.stored.length === 1, 'the timer flushed the line');
    assert.equal(meter.backlog, 0);
    const r = sink.stored[0]!;
    assert.match(r.id, /^[0-9a-f-]{36}$/);
    assert.equal(typeof r.createdAt, 'number');
    assert.equal(r.requestId, 'r1');
    await meter.close();
  });

  it('a burst is written in batches of at most maxBatch, and close leaves nothing behind', async () => {
    const sink = new FakeSink();
    // A long timer: only the batch size and close() can write here.
    const meter = new UsageMeter(sink, { flushMs: 60_000, maxBatch: 100, log: new MemoryLog() });
    for (let i = 0; i < 1234; i++) meter.record(line(i));
    await meter.close();
    assert.equal(sink.stored.length, 1234);
    assert.deepEqual(sink.stored.map((r) => r.requestId), Array.from({ length: 1234 }, (_, i) => `r${i}`), 'in the order recorded');
    assert.equal(new Set(sink.stored.map((r) => r.id)).size, 1234);
    assert.ok(sink.batches.every((n) => n <= 100), `batches ${sink.batches}`);
    assert.equal(sink.maxInFlight, 1, 'never two writes at once');
  });

  it('a full batch is written without waiting for the timer', async () => {
    const sink = new FakeSink();
    const meter = new UsageMeter(sink, { flushMs: 60_000, maxBatch: 10, log: new MemoryLog() });
    for (let i = 0; i < 10; i++) meter.record(line(i));
    await until(() => sink.stored.length === 10, 'the full batch was written');
    meter.record(line(10));
    await meter.close();
    assert.equal(sink.stored.length, 11);
  });

  it('a failed write keeps its lines, logs, and is retried until stored', async () => {
    const sink = new FakeSink();
    const log = new MemoryLog();
    const meter = new UsageMeter(sink, { flushMs: 5, retryMs: 5, log });
    sink.failNext = 3;
    for (let i = 0; i < 5; i++) meter.record(line(i));
    await until(() => sink.stored.length === 5, 'stored after the retries');
    assert.equal(log.lines.filter((l) => l.level === 'warn' && /will retry/.test(l.msg)).length, 3);
    assert.equal(log.lines.at(-1)!.obj.failures, 3);
    await meter.close();
    assert.equal(sink.stored.length, 5);
  });

  it('lines recorded while a write is in flight are written after it, none lost', async () => {
    const sink = new FakeSink();
    let open!: () => void;
    sink.gate = new Promise((r) => { open = r; });
    const meter = new UsageMeter(sink, { flushMs: 1, log: new MemoryLog() });
    meter.record(line(0));
    await until(() => sink.inFlight === 1, 'the first write started');
    for (let i = 1; i < 50; i++) meter.record(line(i));
    const closing = meter.close();
    open();
    await closing;
    assert.equal(sink.stored.length, 50);
  });

  it('close retries a failing database, and logs in full what it finally cannot store', async () => {
    const sink = new FakeSink();
    const log = new MemoryLog();
    const meter = new UsageMeter(sink, { flushMs: 60_000, retryMs: 1, log });
    meter.record(line(1));
    sink.failNext = 2;
    await meter.close();
    assert.equal(sink.stored.length, 1, 'stored on the third attempt');

    const dead = new FakeSink();
    dead.failNext = Infinity;
    const log2 = new MemoryLog();
    const meter2 = new UsageMeter(dead, { flushMs: 60_000, retryMs: 1, log: log2 });
    meter2.record(line(7));
    await meter2.close(3);
    const final = log2.lines.find((l) => l.level === 'error')!;
    assert.match(final.msg, /could not be stored at shutdown/);
    assert.equal(final.obj.lost, 1);
    assert.equal((final.obj.records as UsageRecord[])[0]!.requestId, 'r7');
    // After close a line is refused loudly, never silently.
    meter2.record(line(8));
    assert.match(log2.lines.at(-1)!.msg, /after the meter closed/);
  });

  it('a backlog past maxPending drops the oldest lines and logs them', async () => {
    const sink = new FakeSink();
    sink.failNext = Infinity;
    const log = new MemoryLog();
    const meter = new UsageMeter(sink, { flushMs: 60_000, retryMs: 60_000, maxPending: 10, log });
    for (let i = 0; i < 12; i++) meter.record(line(i));
    assert.equal(meter.backlog, 10);
    const drops = log.lines.filter((l) => /backlog full/.test(l.msg));
    assert.deepEqual(drops.flatMap((d) => (d.obj.records as UsageRecord[]).map((r) => r.requestId)), ['r0', 'r1']);
    sink.failNext = 0;
    await meter.close();
    assert.deepEqual(sink.stored.map((r) => r.requestId), Array.from({ length: 10 }, (_, i) => `r${i + 2}`));
  });
});
