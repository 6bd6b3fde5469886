/**
 * The server's cost, read from /proc: CPU seconds (utime + stime of the process and its living
 * descendants, plus what its reaped children used) and RSS (VmRSS of the same tree, sampled).
 */
import { readdirSync, readFileSync } from 'node:fs';

const TICKS_PER_S = 100; // USER_HZ on Linux

interface Stat {
  ppid: number;
  /** utime + stime, in ticks. */
  self: number;
  /** cutime + cstime (reaped children), in ticks. */
  children: number;
}

function readStat(pid: number): Stat | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // The command name may hold spaces and parentheses: fields start after the last ')'.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  const num = (i: number): number => Number(fields[i - 3]);
  return { ppid: num(4), self: num(14) + num(15), children: num(16) + num(17) };
}

/** pid and every living descendant. */
export function processTree(root: number): number[] {
  const parents = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid) || pid <= 0) continue;
    const stat = readStat(pid);
    if (stat === undefined) continue;
    const list = parents.get(stat.ppid) ?? [];
    list.push(pid);
    parents.set(stat.ppid, list);
  }
  const out = [root];
  for (let i = 0; i < out.length; i++) out.push(...(parents.get(out[i]!) ?? []));
  return out;
}

/** CPU seconds used so far by the trees under `roots` (a peer may run several daemons). */
export function cpuSeconds(roots: readonly number[]): number {
  let ticks = 0;
  for (const root of roots) {
    for (const pid of processTree(root)) {
      const stat = readStat(pid);
      if (stat === undefined) continue;
      ticks += stat.self + (pid === root ? stat.children : 0);
    }
  }
  return ticks / TICKS_PER_S;
}

/**
 * VmRSS and RssAnon of a process, in bytes. VmRSS also counts file pages mapped into the process
 * (for hangar: LMDB's memory-mapped data files, which grow with the data set and are reclaimable
 * page cache); RssAnon is the memory the process itself allocated (heaps, buffers).
 */
function rssBytes(pid: number): { total: number; anon: number } {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kib = (field: string): number =>
      Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)?.[1] ?? 0) * 1024;
    return { total: kib('VmRSS'), anon: kib('RssAnon') };
  } catch {
    return { total: 0, anon: 0 };
  }
}

/** Samples the trees' VmRSS and RssAnon every `everyMs` until stopped; keeps their peaks. */
export class RssSampler {
  private peak = 0;
  private peakAnon = 0;
  private tree: number[];
  private ticks = 0;
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly roots: readonly number[],
    everyMs = 50,
  ) {
    this.tree = roots.flatMap(processTree);
    this.sample();
    this.timer = setInterval(() => this.sample(), everyMs);
  }

  private sample(): void {
    // Re-walk the tree once a second (a peer may fork); reading /proc costs the runner CPU.
    if (++this.ticks % 20 === 0) this.tree = this.roots.flatMap(processTree);
    let total = 0;
    let anon = 0;
    for (const pid of this.tree) {
      const rss = rssBytes(pid);
      total += rss.total;
      anon += rss.anon;
    }
    if (total > this.peak) this.peak = total;
    if (anon > this.peakAnon) this.peakAnon = anon;
  }

  /** Stops sampling; the peaks of VmRSS and of RssAnon, in bytes. */
  stop(): { peak: number; peakAnon: number } {
    clearInterval(this.timer);
    this.sample();
    return { peak: this.peak, peakAnon: this.peakAnon };
  }
}
