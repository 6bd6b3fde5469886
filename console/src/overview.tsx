// Overview (operator): health, capacity per data directory, statistics, live request/error rate
// and latency percentile charts from the metrics hangar keeps (/metrics, scraped every POLL_MS),
// background workers with controls, and block errors with retry and purge.
import { useEffect, useRef, useState } from 'preact/hooks';
import { CapacityBars, type DataDirectory, LiveChart } from './charts.js';
import type { PageProps } from './main.js';
import { parseScrape, type Rates, ratesBetween, type Scrape } from './metrics.js';
import { adminCall, adminText, errorText, formatBytes } from './session.js';
import { ErrorLine } from './ui.js';

const POLL_MS = 1000;
/** Points kept on the charts (one per poll). */
const WINDOW_POINTS = 120;

interface Health {
  readonly status: string;
  readonly partitions: number;
  readonly partitionsAllOk: number;
}
interface Worker {
  readonly id: number;
  readonly name: string;
  readonly state: unknown;
  readonly errors: number;
  readonly progress: string | null;
  readonly freeform: string[];
}
interface ClusterStatus {
  readonly nodes: ReadonlyArray<{ readonly dataDirectories?: DataDirectory[] }>;
}
interface BlockError {
  readonly blockHash: string;
  readonly errorCount: number;
}

const REQUEST_LINES = [
  { label: 'requests/s', color: '--accent' },
  { label: 'errors/s', color: '--danger' },
];
const LATENCY_LINES = [
  { label: 'p50 ms', color: '--accent' },
  { label: 'p99 ms', color: '--danger', dash: [6, 4] },
];

/** How many points of a line have a value (the latency lines have none while idle). */
function countValues(line: readonly (number | null)[] | undefined): number {
  return (line ?? []).filter((value) => value !== null).length;
}

export function Overview({ session }: PageProps) {
  const token = session.adminToken ?? '';
  const [health, setHealth] = useState<Health | null>(null);
  const [statistics, setStatistics] = useState('');
  const [workers, setWorkers] = useState<Worker[]>([]);
  const [blockErrors, setBlockErrors] = useState<BlockError[]>([]);
  const [rates, setRates] = useState<Rates | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [disks, setDisks] = useState<DataDirectory[]>([]);
  // Times, requests/s, errors/s; and times, p50 ms, p99 ms (null: no request finished).
  const series = useRef<number[][]>([[], [], []]);
  const latency = useRef<(number | null)[][]>([[], [], []]);
  const [points, setPoints] = useState(0);

  const refreshSlow = async () => {
    try {
      const [h, c, s, w, b] = await Promise.all([
        adminCall<Health>(token, 'GetClusterHealth'),
        adminCall<ClusterStatus>(token, 'GetClusterStatus'),
        adminCall<{ freeform: string }>(token, 'GetClusterStatistics'),
        adminCall<{ success: Record<string, Worker[]> }>(token, 'ListWorkers', {
          query: { node: 'self' },
          body: {},
        }),
        adminCall<{ success: Record<string, BlockError[]> }>(token, 'ListBlockErrors', {
          query: { node: 'self' },
        }),
      ]);
      setHealth(h);
      setDisks(c.nodes.flatMap((node) => node.dataDirectories ?? []));
      setStatistics(s.freeform);
      setWorkers(Object.values(w.success)[0] ?? []);
      setBlockErrors(Object.values(b.success)[0] ?? []);
    } catch (caught) {
      setError(errorText(caught));
    }
  };

  useEffect(() => {
    void refreshSlow();
    const slow = setInterval(refreshSlow, 5000);
    let previous: Scrape | null = null;
    const poll = async () => {
      try {
        const scrape = parseScrape(await adminText(token, 'metrics'), Date.now());
        if (previous !== null) {
          const next = ratesBetween(previous, scrape);
          setRates(next);
          const seconds = scrape.atMs / 1000;
          const [t, req, err] = series.current as [number[], number[], number[]];
          t.push(seconds);
          req.push(next.requestsPerSecond);
          err.push(next.errorsPerSecond);
          const ms = (value: number | null) => (value === null ? null : value * 1000);
          const [lt, p50, p99] = latency.current as [
            number[],
            (number | null)[],
            (number | null)[],
          ];
          lt.push(seconds);
          p50.push(ms(next.p50));
          p99.push(ms(next.p99));
          for (const line of [...series.current, ...latency.current]) {
            if (line.length > WINDOW_POINTS) line.shift();
          }
          setPoints(t.length);
        }
        previous = scrape;
      } catch (caught) {
        setError(errorText(caught));
      }
    };
    void poll();
    const fast = setInterval(poll, POLL_MS);
    return () => {
      clearInterval(slow);
      clearInterval(fast);
    };
  }, [token]);

  const act = async (operation: string, body: unknown) => {
    setError(null);
    try {
      await adminCall(token, operation, { query: { node: 'self' }, body });
      await refreshSlow();
    } catch (caught) {
      setError(errorText(caught));
    }
  };
  const latestRate = series.current[1]?.[series.current[1].length - 1] ?? 0;
  const ms = (seconds: number | null | undefined) =>
    seconds === null || seconds === undefined ? '–' : `≤ ${(seconds * 1000).toFixed(1)} ms`;

  return (
    <section aria-labelledby="overview-title">
      <h1 id="overview-title">Overview</h1>
      <ErrorLine text={error} />
      <div class="tiles">
        <div class="card tile">
          <h2>Health</h2>
          <p data-health={health?.status}>
            {health === null
              ? '…'
              : `${health.status}: ${health.partitionsAllOk}/${health.partitions} shards answering`}
          </p>
        </div>
        <div class="card tile">
          <h2>Requests</h2>
          <p>
            {(rates?.requestsPerSecond ?? 0).toFixed(1)}/s, errors{' '}
            {(rates?.errorsPerSecond ?? 0).toFixed(1)}/s
          </p>
          <p>
            in {formatBytes(Math.round(rates?.bytesInPerSecond ?? 0))}/s, out{' '}
            {formatBytes(Math.round(rates?.bytesOutPerSecond ?? 0))}/s
          </p>
        </div>
        <div class="card tile">
          <h2>Latency</h2>
          <p>
            p50 {ms(rates?.p50)}, p95 {ms(rates?.p95)}, p99 {ms(rates?.p99)}
          </p>
        </div>
        <div class="card tile">
          <h2>Capacity per data directory</h2>
          <CapacityBars disks={disks} />
        </div>
      </div>
      <div class="charts">
        <figure class="card chart">
          <figcaption>Requests and errors per second (live)</figcaption>
          <LiveChart
            class="request-chart"
            lines={REQUEST_LINES}
            data={series.current}
            points={points}
            label={`Request rate chart; now ${latestRate.toFixed(1)} requests per second`}
            attributes={{
              'data-latest-rate': latestRate.toFixed(2),
              'data-max-rate': Math.max(0, ...(series.current[1] ?? [])).toFixed(2),
              'data-max-error-rate': Math.max(0, ...(series.current[2] ?? [])).toFixed(2),
            }}
          />
        </figure>
        <figure class="card chart">
          <figcaption>Latency percentiles, p50 and p99 in milliseconds (live)</figcaption>
          <LiveChart
            class="latency-chart"
            lines={LATENCY_LINES}
            data={latency.current}
            points={points}
            label={`Latency chart; now p50 ${ms(rates?.p50)}, p99 ${ms(rates?.p99)}`}
            attributes={{ 'data-p99-points': String(countValues(latency.current[2])) }}
          />
        </figure>
      </div>
      <div class="card">
        <h2>Statistics</h2>
        <pre class="freeform">{statistics}</pre>
      </div>
      <div class="card">
        <h2>Background workers</h2>
        <table class="list">
          <thead>
            <tr>
              <th scope="col">Worker</th>
              <th scope="col">State</th>
              <th scope="col">Progress</th>
              <th scope="col">Errors</th>
            </tr>
          </thead>
          <tbody>
            {workers.map((worker) => (
              <tr key={worker.id} data-worker={worker.name}>
                <td>{worker.name}</td>
                <td>
                  {typeof worker.state === 'string' ? worker.state : JSON.stringify(worker.state)}
                </td>
                {/* The first freeform line too: a paused scrub is only told apart there (its
                    state reads idle, as Garage's does, and its progress stays). */}
                <td>
                  {worker.progress}
                  {worker.progress !== null && worker.freeform[0] !== undefined && <br />}
                  {worker.freeform[0] ?? ''}
                </td>
                <td>{worker.errors}</td>
              </tr>
            ))}
          </tbody>
        </table>
        <div class="row wrap">
          {(['start', 'pause', 'resume', 'cancel'] as const).map((command) => (
            <button
              key={command}
              type="button"
              onClick={() => act('LaunchRepairOperation', { repairType: { scrub: command } })}
            >
              Scrub: {command}
            </button>
          ))}
          <button
            type="button"
            onClick={() => act('LaunchRepairOperation', { repairType: 'blocks' })}
          >
            Run orphan sweep
          </button>
          <button
            type="button"
            onClick={() => act('LaunchRepairOperation', { repairType: 'lifecycle' })}
          >
            Run lifecycle
          </button>
        </div>
      </div>
      <div class="card">
        <h2>Block errors</h2>
        {blockErrors.length === 0 ? (
          <p>None.</p>
        ) : (
          <>
            <ul>
              {blockErrors.map((b) => (
                <li key={b.blockHash}>
                  <code>{b.blockHash}</code> ({b.errorCount} errors)
                </li>
              ))}
            </ul>
            <button type="button" onClick={() => act('RetryBlockResync', { all: true })}>
              Retry all
            </button>
            <button
              type="button"
              onClick={() => {
                if (confirm('Purge the failing blocks? Objects using them are deleted.')) {
                  void act(
                    'PurgeBlocks',
                    blockErrors.map((b) => b.blockHash),
                  );
                }
              }}
            >
              Purge all
            </button>
          </>
        )}
      </div>
    </section>
  );
}
