// The overview's pictures: live uPlot line charts fed one point a poll, and a bar per data
// directory showing its filesystem's used and free space.
import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import { formatBytes } from './session.js';

const HEIGHT = 220;
const MIN_WIDTH = 280;

export interface ChartLine {
  readonly label: string;
  /** A CSS custom property of the theme (`--accent`): the line follows dark and light. */
  readonly color: string;
  /** A second y scale (drawn on the right), when the line's unit differs from the first's. */
  readonly scale?: string;
  readonly dash?: number[];
}

/**
 * A live line chart of `data` (times first, then one array per line; null: no value then). The
 * arrays are the caller's, grown in place; `points` changing redraws.
 */
export function LiveChart(props: {
  lines: readonly ChartLine[];
  data: (number | null)[][];
  points: number;
  class: string;
  label: string;
  attributes?: Record<string, string>;
}) {
  const { lines, data, points, label, attributes = {} } = props;
  const target = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);

  useEffect(() => {
    const element = target.current;
    if (element === null) return;
    const style = getComputedStyle(document.documentElement);
    const stroke = (name: string) => style.getPropertyValue(name).trim() || '#36c';
    const rightScale = lines.find((line) => line.scale !== undefined)?.scale;
    plot.current = new uPlot(
      {
        width: Math.max(MIN_WIDTH, element.clientWidth),
        height: HEIGHT,
        series: [
          {},
          ...lines.map((line) => ({
            label: line.label,
            stroke: stroke(line.color),
            width: 2,
            ...(line.scale === undefined ? {} : { scale: line.scale }),
            ...(line.dash === undefined ? {} : { dash: line.dash }),
          })),
        ],
        axes: [
          {},
          {},
          ...(rightScale === undefined
            ? []
            : [{ scale: rightScale, side: 1 as const, grid: { show: false } }]),
        ],
      },
      data as uPlot.AlignedData,
      element,
    );
    const resize = () =>
      plot.current?.setSize({ width: Math.max(MIN_WIDTH, element.clientWidth), height: HEIGHT });
    addEventListener('resize', resize);
    return () => {
      removeEventListener('resize', resize);
      plot.current?.destroy();
      plot.current = null;
    };
  }, []);

  useEffect(() => {
    plot.current?.setData(data as uPlot.AlignedData);
  }, [points]);

  return (
    <div
      ref={target}
      class={props.class}
      role="img"
      aria-label={label}
      data-points={points}
      {...attributes}
    />
  );
}

/** One data directory: its path and its filesystem's space, as GetClusterStatus reports it. */
export interface DataDirectory {
  readonly path: string;
  readonly available: number;
  readonly total: number;
}

/** A bar per data directory: used space of the filesystem, with the figures in words. */
export function CapacityBars({ disks }: { disks: readonly DataDirectory[] }) {
  if (disks.length === 0) return <p>…</p>;
  return (
    <ul class="disks">
      {disks.map((disk) => {
        const used = Math.max(0, disk.total - disk.available);
        const percent = (100 * used) / Math.max(1, disk.total);
        const id = `disk-${disk.path.replace(/[^a-zA-Z0-9]/g, '-')}`;
        return (
          <li key={disk.path} data-disk={disk.path}>
            <span id={id} class="disk-path">
              {disk.path}
            </span>
            <meter
              min={0}
              max={disk.total}
              high={disk.total * 0.9}
              value={used}
              aria-labelledby={id}
              aria-describedby={`${id}-words`}
            />
            <span id={`${id}-words`} data-disk-used-percent={percent.toFixed(1)}>
              {formatBytes(used)} used of {formatBytes(disk.total)} ({percent.toFixed(1)}%),{' '}
              {formatBytes(disk.available)} free
            </span>
          </li>
        );
      })}
    </ul>
  );
}
