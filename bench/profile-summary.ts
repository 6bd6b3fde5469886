/**
 * Summarises the V8 CPU profiles of a bench run (HANGAR_BENCH_PROFILE_DIR, see load/targets.ts):
 * per thread, the busy time, where it goes by component, and the heaviest functions by self
 * time. This is how the goals table's explanations in bench/RESULTS.md were derived.
 *
 *   node dist/bench/profile-summary.js DIR [--per-op N]
 *
 * --per-op N divides busy times by N requests (the run's count) to give µs per request.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

/** Where a frame's code lives, coarse enough to read as a budget. */
function componentOf(frame: ProfileNode['callFrame']): string {
  const { url, functionName } = frame;
  if (functionName === '(garbage collector)') return 'GC';
  if (functionName === '(idle)') return 'idle';
  if (functionName === '(program)') return 'V8/native (program)';
  if (url === '') return `native: ${functionName}`;
  const module = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (module !== null) return `npm: ${module[1]}`;
  if (url.startsWith('node:')) return `node: ${url.slice(5).split('/')[0]}`;
  const own = /dist\/((?:engine|http)\/(?:[^/]+\/)?)/.exec(url);
  if (own !== null) return `hangar: ${own[1]}`;
  return url;
}

function threadKind(profile: CpuProfile): string {
  const urls = new Set(profile.nodes.map((node) => node.callFrame.url));
  const has = (part: string): boolean => [...urls].some((url) => url.includes(part));
  if (has('/engine/shard/shard.js')) return 'shard';
  if (has('/http/edge/thread.js')) return 'edge';
  return 'main';
}

function summarise(file: string, perOp: number | null): void {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const selfUs = new Map<number, number>();
  profile.samples.forEach((id, i) => {
    selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  });
  const byComponent = new Map<string, number>();
  const byFunction = new Map<string, number>();
  let busyUs = 0;
  for (const [id, us] of selfUs) {
    const frame = byId.get(id)?.callFrame;
    if (frame === undefined) continue;
    const component = componentOf(frame);
    if (component !== 'idle') busyUs += us;
    byComponent.set(component, (byComponent.get(component) ?? 0) + us);
    const name = `${frame.functionName || '(anonymous)'} ${frame.url.replace(/.*\/(dist|node_modules)\//, '')}:${frame.lineNumber + 1}`;
    byFunction.set(name, (byFunction.get(name) ?? 0) + us);
  }
  const scale = (us: number): string =>
    perOp === null ? `${(us / 1000).toFixed(0)} ms` : `${(us / perOp).toFixed(1)} µs/op`;
  const wallUs = profile.endTime - profile.startTime;
  console.log(`\n## ${threadKind(profile)} thread (${file.split('/').pop()})`);
  console.log(`busy ${scale(busyUs)} of ${(wallUs / 1000).toFixed(0)} ms wall`);
  const top = (map: Map<string, number>, n: number): void => {
    const rows = [...map.entries()].filter(([k]) => k !== 'idle' && !k.startsWith('(idle)'));
    rows.sort((a, b) => b[1] - a[1]);
    for (const [name, us] of rows.slice(0, n)) {
      console.log(
        `  ${((100 * us) / busyUs).toFixed(1).padStart(5)}%  ${scale(us).padStart(12)}  ${name}`,
      );
    }
  };
  console.log('by component:');
  top(byComponent, 14);
  console.log('by function (self):');
  top(byFunction, 16);
}

function main(): void {
  const dir = process.argv[2];
  if (dir === undefined) throw new Error('usage: profile-summary DIR [--per-op N]');
  const at = process.argv.indexOf('--per-op');
  const perOp = at > 0 ? Number(process.argv[at + 1]) : null;
  const files = readdirSync(dir).filter((name) => name.endsWith('.cpuprofile'));
  for (const name of files.sort()) summarise(join(dir, name), perOp);
}

main();
