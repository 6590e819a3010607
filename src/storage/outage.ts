/**
 * Backoff for an unreachable or refusing object store. The model manager polls every
 * file_system_poll_wait_seconds; during an outage (or while credentials are rejected) each poll
 * would otherwise hit the store again at full rate. After a failure, calls fail at once with the
 * same error until the backoff delay has passed; the delay doubles with each failed attempt up to
 * a ceiling. Every real failed attempt is logged with its cause, and the first success after an
 * outage is logged too. Errors that are answers (a missing object) do not count as an outage.
 */
import type { Logger } from 'pino';
import { StorageError } from './storage.js';

export interface BackoffOptions {
  /** Delay after the first failure (ms). */
  readonly initialMs?: number;
  /** Ceiling of the delay (ms). */
  readonly maxMs?: number;
  readonly now?: () => number;
}

export class OutageGuard {
  private failures = 0;
  private retryAt = 0;
  private lastError: StorageError | undefined;
  private readonly initialMs: number;
  private readonly maxMs: number;
  private readonly now: () => number;

  constructor(readonly name: string, private readonly logger: Logger | undefined, options: BackoffOptions = {}) {
    this.initialMs = options.initialMs ?? 1000;
    this.maxMs = Math.max(this.initialMs, options.maxMs ?? 30_000);
    this.now = options.now ?? Date.now;
  }

  /** In backoff after a failure: calls fail without contacting the store. */
  get backingOff(): boolean {
    return this.lastError !== undefined && this.now() < this.retryAt;
  }

  async run<T>(op: () => Promise<T>): Promise<T> {
    if (this.lastError && this.now() < this.retryAt) throw this.lastError;
    try {
      const result = await op();
      this.recovered();
      return result;
    } catch (err) {
      if (err instanceof StorageError && (err.kind === 'UNAVAILABLE' || err.kind === 'ACCESS_DENIED')) {
        this.failed(err);
      } else {
        this.recovered();
      }
      throw err;
    }
  }

  private failed(err: StorageError): void {
    this.failures++;
    const delay = Math.min(this.maxMs, this.initialMs * 2 ** Math.min(this.failures - 1, 30));
    this.retryAt = this.now() + delay;
    this.lastError = err;
    this.logger?.warn(
      { storage: this.name, attempt: this.failures, retryInMs: delay },
      `${err.message.includes(this.name) ? err.message : `${this.name}: ${err.message}`}; failed attempt ${this.failures}, next attempt in ${formatSeconds(delay)}`,
    );
  }

  private recovered(): void {
    if (this.failures > 0) this.logger?.info({ storage: this.name }, `${this.name}: reachable again after ${this.failures} failed attempt(s)`);
    this.failures = 0;
    this.retryAt = 0;
    this.lastError = undefined;
  }
}

function formatSeconds(ms: number): string {
  return `${Number((ms / 1000).toFixed(1))} s`;
}
