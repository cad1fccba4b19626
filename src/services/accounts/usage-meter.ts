import { randomUUID } from 'node:crypto';
import type { UsageOutcome, UsageRecord } from '../../storage/usage.js';

export type { UsageOutcome, UsageRecord };

/** Where batches go: the UsageRepository, or a fake in tests. */
export interface UsageSink {
  insertMany(records: readonly UsageRecord[]): Promise<void>;
}

/** The part of a logger the meter needs (pino and fastify's logger fit). */
export interface MeterLog {
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

/** A line as the HTTP layer knows it; the meter adds the id and the time. */
export type UsageLine = Omit<UsageRecord, 'id' | 'createdAt'> & { createdAt?: number };

export interface UsageMeterOptions {
  /** A pending line is written at most this long after it was recorded (while the database answers). */
  flushMs: number;
  /** A batch this large is written at once, without waiting for the timer. */
  maxBatch?: number;
  /**
   * Lines held while the database does not answer. Past this the oldest are dropped, and each drop is logged
   * with the lines themselves, so memory stays bounded and nothing vanishes without a trace.
   */
  maxPending?: number;
  /** First retry delay after a failed write; doubles up to 30 s. */
  retryMs?: number;
  log?: MeterLog;
  now?: () => number;
}

const stderrLog: MeterLog = {
  warn: (obj, msg) => process.stderr.write(`${JSON.stringify({ level: 'warn', msg, ...obj })}\n`),
  error: (obj, msg) => process.stderr.write(`${JSON.stringify({ level: 'error', msg, ...obj })}\n`),
};

/**
 * Records usage without making a response wait for the database: `record` only appends to memory; a timer
 * (or a full batch) writes what is pending in one transaction. A failed write keeps its lines and is retried
 * with backoff. `close` writes everything still pending, so a graceful shutdown loses nothing; a killed process
 * loses at most what was recorded since the last write (about `flushMs`).
 */
export class UsageMeter {
  private pending: UsageRecord[] = [];
  private timer: NodeJS.Timeout | undefined;
  /** The tail of the flushes in progress; each waits for the one before. */
  private queue: Promise<void> = Promise.resolve();
  private failures = 0;
  private closed = false;
  private readonly maxBatch: number;
  private readonly maxPending: number;
  private readonly retryMs: number;
  private log: MeterLog;
  private readonly now: () => number;

  constructor(private readonly sink: UsageSink, private readonly options: UsageMeterOptions) {
    this.maxBatch = options.maxBatch ?? 500;
    this.maxPending = options.maxPending ?? 200_000;
    this.retryMs = options.retryMs ?? 500;
    this.log = options.log ?? stderrLog;
    this.now = options.now ?? Date.now;
  }

  /** The server's logger, once it exists (the meter is built before the HTTP app). */
  useLog(log: MeterLog): void {
    this.log = log;
  }

  /** Lines recorded and not yet known to be stored. */
  get backlog(): number {
    return this.pending.length;
  }

  /** Never blocks and never throws: a metering problem must not fail the call it meters. */
  record(line: UsageLine): void {
    const record: UsageRecord = { ...line, id: randomUUID(), createdAt: line.createdAt ?? this.now() };
    if (this.closed) {
      // Only a request that outlived the shutdown's drain gets here; say so with the line rather than lose it quietly.
      this.log.error({ record }, 'usage line recorded after the meter closed; not stored');
      return;
    }
    this.pending.push(record);
    if (this.pending.length > this.maxPending) {
      const dropped = this.pending.splice(0, this.pending.length - this.maxPending);
      this.log.error({ dropped: dropped.length, records: dropped }, 'usage backlog full while the database is failing: oldest lines dropped');
    }
    // Each further full batch kicks a write of its own; a backlog during a failure waits for the backoff instead.
    if (this.pending.length % this.maxBatch === 0 && this.failures === 0) this.kick(0);
    else this.schedule();
  }

  /**
   * Writes everything pending now; resolves when it is stored, rejects if a write fails (its lines are kept).
   * Flushes run one after another, never two batches at once, so lines are stored in the order recorded.
   */
  flush(): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    const run = this.queue.then(() => this.drain());
    this.queue = run.catch(() => {});
    return run;
  }

  private async drain(): Promise<void> {
    while (this.pending.length > 0) await this.writeBatch();
  }

  /**
   * Stops taking lines and writes all that are pending, retrying a few times (the database may be briefly
   * unavailable). Lines that still cannot be written are logged in full, at error level, for the operator.
   */
  async close(attempts = 5): Promise<void> {
    this.closed = true;
    for (let attempt = 1; ; attempt++) {
      try {
        await this.flush();
        return;
      } catch (error) {
        if (attempt >= attempts) {
          this.log.error({ err: error, lost: this.pending.length, records: this.pending }, 'usage lines could not be stored at shutdown');
          this.pending = [];
          return;
        }
        await new Promise((r) => setTimeout(r, Math.min(this.retryMs * attempt, 2000)));
      }
    }
  }

  private async writeBatch(): Promise<void> {
    const batch = this.pending.slice(0, this.maxBatch);
    try {
      await this.sink.insertMany(batch);
    } catch (error) {
      this.failures++;
      this.log.warn({ err: error, lines: batch.length, backlog: this.pending.length, failures: this.failures }, 'usage write failed; will retry');
      throw error;
    }
    // Lines recorded meanwhile were appended behind the batch, so it is normally still the head of the queue;
    // unless a full backlog dropped some of its head meanwhile.
    if (this.pending[0] === batch[0]) this.pending.splice(0, batch.length);
    else {
      const stored = new Set(batch);
      this.pending = this.pending.filter((r) => !stored.has(r));
    }
    this.failures = 0;
  }

  private schedule(): void {
    if (this.timer || this.closed) return;
    const delay = this.failures === 0 ? this.options.flushMs : Math.min(this.retryMs * 2 ** (this.failures - 1), 30_000);
    this.kick(delay);
  }

  private kick(delay: number): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.flush().then(
        () => {},
        () => this.schedule(),
      );
    }, delay);
    // A pending write must not keep a CLI or a test process alive; the server writes the rest in close().
    this.timer.unref();
  }
}
