import type { BackgroundWorker, WorkerStatus } from '../../engine/workers/worker.js';
import type { EdgeScrape } from '../admin/metrics.js';
import type { AccessLogStatus } from './metrics.js';

/**
 * The server access log delivery as ListWorkers shows it. The delivery itself runs in every edge
 * thread (http/access-log/delivery.ts, beside the thread's spool); this main-thread view asks the
 * threads for their status (the metrics scrape's message) before each listing and sums it.
 */
export class AccessLogWorkerView implements BackgroundWorker {
  readonly name = 'Server access log delivery';
  private latest: AccessLogStatus[] = [];

  constructor(private readonly scrape: () => Promise<EdgeScrape[]>) {}

  async refresh(): Promise<void> {
    this.latest = (await this.scrape()).flatMap((edge) =>
      edge.accessLog === null ? [] : [edge.accessLog],
    );
  }

  status(): WorkerStatus {
    const sum = (field: keyof Omit<AccessLogStatus, 'lastError'>): number =>
      this.latest.reduce((total, edge) => total + edge[field], 0);
    const lastError = this.latest
      .map((edge) => edge.lastError)
      .reduce<AccessLogStatus['lastError']>(
        (newest, error) =>
          error !== null && (newest === null || error.atMs > newest.atMs) ? error : newest,
        null,
      );
    const pending = sum('pendingRecords');
    return {
      state: pending > 0 ? 'busy' : 'idle',
      errors: sum('errors'),
      consecutiveErrors: Math.max(0, ...this.latest.map((edge) => edge.consecutiveErrors)),
      lastError,
      tranquility: null,
      progress: null,
      queueLength: pending,
      freeform: [
        `Edge threads reporting: ${this.latest.length}`,
        `Records pending: ${pending}`,
        `Delivered: ${sum('deliveredRecords')} records in ${sum('deliveredObjects')} log objects`,
        `Dropped (target bucket gone): ${sum('droppedRecords')}`,
        `Failed delivery runs (retried): ${sum('errors')}`,
      ],
    };
  }
}
