/**
 * Issue 13's goals table: each goal, the figure before the issue's work (the quick run of
 * d79c126 on 2026-12-04, the last one before it, and the issue's own words where that run had no
 * such workload), and this run's figure with whether it meets the goal.
 */

/** What the goals read from a run. */
export interface GoalInputs {
  /** hangar's (default target) or the raw reference's throughput for a workload, if measured. */
  figure(workloadId: string, target: 'hangar' | 'raw'): number | undefined;
  /** A raw file-system figure (MiB/s or ops/s) by the start of its task name. */
  fs(taskPrefix: string): number | undefined;
  /** hangar's peak RssAnon over every workload it ran, in MiB, and the workload it peaked in. */
  peakAnonMiB(): { mib: number; workload: string } | undefined;
}

interface Goal {
  readonly workload: string;
  readonly before: string;
  readonly goal: string;
  readonly measure: (inputs: GoalInputs) => { shown: string; met: boolean } | undefined;
  /** The section of WHERE-THE-TIME-GOES.md that explains where the time goes, if unmet. */
  readonly why: string;
}

const SMALL = 'small-objects-get-head-and-put-of-4-kib';
const MEDIUM = 'medium-objects-64-kib-and-1-mib';
const LARGE = 'large-objects-64-mib';

function times(value: number): string {
  return `${value >= 0.1 ? value.toFixed(2) : value.toPrecision(2)}×`;
}

/** hangar over raw uWS for a workload, against a minimum ratio. */
function overRaw(workloadId: string, atLeast: number): Goal['measure'] {
  return (inputs) => {
    const hangar = inputs.figure(workloadId, 'hangar');
    const raw = inputs.figure(workloadId, 'raw');
    if (hangar === undefined || raw === undefined || raw === 0) return undefined;
    return { shown: `${times(hangar / raw)} raw uWS`, met: hangar / raw >= atLeast };
  };
}

/** hangar's MiB/s over a raw file-system figure, against a minimum ratio. */
function overFs(workloadId: string, fsTask: string, atLeast: number): Goal['measure'] {
  return (inputs) => {
    const hangar = inputs.figure(workloadId, 'hangar');
    const fs = inputs.fs(fsTask);
    if (hangar === undefined || fs === undefined || fs === 0) return undefined;
    return {
      shown: `${hangar.toFixed(0)} MiB/s = ${times(hangar / fs)} of "${fsTask}"`,
      met: hangar / fs >= atLeast,
    };
  };
}

const SEQUENTIAL_FS = '64 MiB write+fsync';

const GOALS: readonly Goal[] = [
  {
    workload: 'GET 4 KiB, c64',
    before: '0.081× (issue: 0.08–0.25×)',
    goal: '≥ 0.5× raw',
    measure: overRaw('get-4k', 0.5),
    why: SMALL,
  },
  {
    workload: 'PUT 4 KiB durable, c64',
    before: '0.068× (issue: 0.08–0.12×)',
    goal: '≥ 0.25× raw',
    measure: overRaw('put-4k', 0.25),
    why: SMALL,
  },
  {
    workload: 'HEAD 4 KiB, c64',
    before: '0.11× (issue: 0.21×)',
    goal: '≥ 0.5× raw',
    measure: overRaw('head-4k', 0.5),
    why: SMALL,
  },
  {
    workload: 'GET 1 MiB, c16',
    before: 'not measured',
    goal: '≥ 0.6× raw',
    measure: overRaw('get-1m', 0.6),
    why: MEDIUM,
  },
  {
    workload: 'PUT 1 MiB durable, c16',
    before: 'not measured',
    goal: '≥ 0.8× raw fs write+fsync',
    measure: overFs('put-1m', '1 MiB write+fsync', 0.8),
    why: MEDIUM,
  },
  {
    workload: 'PUT 64 KiB durable, c64',
    before: 'issue: 91 MiB/s (~0.28× of dd conv=fdatasync)',
    goal: "≥ 0.7× of the disk's sequential write+fsync",
    measure: overFs('put-64k', SEQUENTIAL_FS, 0.7),
    why: MEDIUM,
  },
  {
    workload: 'GET 64 KiB, c64',
    before: 'issue: 0.09×',
    goal: '≥ 0.4× raw',
    measure: overRaw('get-64k', 0.4),
    why: MEDIUM,
  },
  {
    workload: 'GET 64 MiB, c4',
    before: '0.34× (issue: ~0.5×)',
    goal: '≥ 0.8× raw',
    measure: overRaw('get-64m', 0.8),
    why: LARGE,
  },
  {
    workload: 'PUT 64 MiB durable, c4',
    before: '198 MiB/s = 0.18× of "64 MiB write+fsync" (1,127 MiB/s)',
    goal: '≥ 0.9× raw fs',
    measure: overFs('put-64m', SEQUENTIAL_FS, 0.9),
    why: LARGE,
  },
  {
    workload: 'ListObjectsV2, 1000-key pages of 100k keys, c8',
    before: '108 pages/s (issue: 168)',
    goal: '≥ 1,000 pages/s',
    measure: (inputs) => {
      const pages = inputs.figure('list-100k', 'hangar');
      return pages === undefined
        ? undefined
        : { shown: `${pages.toFixed(0)} pages/s`, met: pages >= 1000 };
    },
    why: 'listing-1000-key-pages-over-100k-keys',
  },
  {
    workload: 'peak anonymous memory, every workload',
    before: '250 MiB (GET 4 KiB; issue: 247)',
    goal: '< 256 MiB',
    measure: (inputs) => {
      const peak = inputs.peakAnonMiB();
      return peak === undefined
        ? undefined
        : { shown: `${peak.mib.toFixed(0)} MiB (${peak.workload})`, met: peak.mib < 256 };
    },
    why: 'memory',
  },
];

/** The goals table in Markdown; a goal whose workload did not run says so. */
export function goalsTable(inputs: GoalInputs): string {
  return [
    '| workload | before (d79c126) | this run | goal | met |',
    '|---|---|---|---|---|',
    ...GOALS.map((goal) => {
      const now = goal.measure(inputs);
      const met =
        now === undefined
          ? '–'
          : now.met
            ? 'yes'
            : `no: [where the time goes](WHERE-THE-TIME-GOES.md#${goal.why})`;
      return `| ${goal.workload} | ${goal.before} | ${now?.shown ?? 'not measured in this run'} | ${goal.goal} | ${met} |`;
    }),
  ].join('\n');
}
