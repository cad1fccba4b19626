import { AppError } from '../../errors/app-error.js';
import type { AppLimits } from '../../storage/apps.js';

/**
 * Counters behind the limits. The embedded store keeps them in this process; a Redis-backed store can implement
 * the same interface for several processes (token bucket and counters map onto INCR/EXPIRE and a Lua script).
 */
export interface LimitStore {
  /** Takes one token from a bucket of `burst` refilled at `rate` per second; 0 if taken, else ms until one is. */
  take(key: string, rate: number, burst: number, now: number): Promise<number>;
  /** Counts one more request in flight unless `max` are; false when full. */
  enter(key: string, max: number): Promise<boolean>;
  leave(key: string): Promise<void>;
  /** A counter for a period; undefined when this store has not seen it since start. */
  count(key: string): Promise<number | undefined>;
  setCount(key: string, value: number): Promise<void>;
  increment(key: string): Promise<void>;
}

export class MemoryLimitStore implements LimitStore {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();
  private readonly inFlight = new Map<string, number>();
  private readonly counters = new Map<string, number>();

  async take(key: string, rate: number, burst: number, now: number): Promise<number> {
    const b = this.buckets.get(key) ?? { tokens: burst, at: now };
    b.tokens = Math.min(burst, b.tokens + ((now - b.at) / 1000) * rate);
    b.at = now;
    this.buckets.set(key, b);
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return 0;
    }
    return Math.ceil(((1 - b.tokens) / rate) * 1000);
  }

  async enter(key: string, max: number): Promise<boolean> {
    const n = this.inFlight.get(key) ?? 0;
    if (n >= max) return false;
    this.inFlight.set(key, n + 1);
    return true;
  }

  async leave(key: string): Promise<void> {
    const n = (this.inFlight.get(key) ?? 1) - 1;
    if (n <= 0) this.inFlight.delete(key);
    else this.inFlight.set(key, n);
  }

  async count(key: string): Promise<number | undefined> {
    return this.counters.get(key);
  }

  async setCount(key: string, value: number): Promise<void> {
    // Old periods' keys are dropped lazily: a new day's key replaces nothing, so trim when the map grows.
    if (this.counters.size > 100_000) this.counters.clear();
    this.counters.set(key, value);
  }

  async increment(key: string): Promise<void> {
    this.counters.set(key, (this.counters.get(key) ?? 0) + 1);
  }
}

/** Successful calls of an app to an action since a time, from the usage records (to restore counters after a restart). */
export type UsageCounter = (appId: string, action: string, sinceMs: number) => Promise<number>;

export function periodStarts(now: number): { day: number; month: number; dayKey: string; monthKey: string } {
  const d = new Date(now);
  const day = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate());
  const month = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
  const iso = new Date(day).toISOString();
  return { day, month, dayKey: iso.slice(0, 10), monthKey: iso.slice(0, 7) };
}

/** What the caller must do when the request ends: release its concurrency slot, and count it if it succeeded. */
export type Admission = (succeeded: boolean) => void;

/** Per app and per API: requests per second, requests in flight, daily and monthly quotas of successful calls. */
export class RateLimiter {
  constructor(private readonly store: LimitStore = new MemoryLimitStore(), private readonly usage?: UsageCounter) {}

  private async used(appId: string, action: string, key: string, since: number): Promise<number> {
    const known = await this.store.count(key);
    if (known !== undefined) return known;
    const fromRecords = this.usage ? await this.usage(appId, action, since) : 0;
    await this.store.setCount(key, fromRecords);
    return fromRecords;
  }

  async admit(appId: string, action: string, limits: AppLimits, now = Date.now()): Promise<Admission> {
    const base = `${appId}|${action}`;
    if (limits.qps) {
      const waitMs = await this.store.take(`${base}|qps`, limits.qps, Math.max(1, limits.qps), now);
      if (waitMs > 0) {
        throw new AppError('RequestLimitExceeded', `Expected at most ${limits.qps} requests per second to ${action} for app ${appId} but received more; retry after ${waitMs} ms`, {
          headers: { 'Retry-After': String(Math.max(1, Math.ceil(waitMs / 1000))) },
        });
      }
    }
    const periods = periodStarts(now);
    const dayKey = `${base}|d|${periods.dayKey}`;
    const monthKey = `${base}|m|${periods.monthKey}`;
    if (limits.daily !== undefined && (await this.used(appId, action, dayKey, periods.day)) >= limits.daily) {
      throw new AppError('LimitExceeded.DailyQuota', `Expected at most ${limits.daily} calls per day to ${action} for app ${appId}; the quota is used up until 00:00 UTC`);
    }
    if (limits.monthly !== undefined && (await this.used(appId, action, monthKey, periods.month)) >= limits.monthly) {
      throw new AppError('LimitExceeded.MonthlyQuota', `Expected at most ${limits.monthly} calls per month to ${action} for app ${appId}; the quota is used up until the 1st, 00:00 UTC`);
    }
    const slotKey = `${base}|c`;
    if (limits.concurrency && !(await this.store.enter(slotKey, limits.concurrency))) {
      throw new AppError('RequestLimitExceeded', `Expected at most ${limits.concurrency} concurrent requests to ${action} for app ${appId} but received more`, {
        headers: { 'Retry-After': '1' },
      });
    }
    let done = false;
    return (succeeded) => {
      if (done) return;
      done = true;
      if (limits.concurrency) void this.store.leave(slotKey);
      if (succeeded) {
        if (limits.daily !== undefined) void this.store.increment(dayKey);
        if (limits.monthly !== undefined) void this.store.increment(monthKey);
      }
    };
  }
}
