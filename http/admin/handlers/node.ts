import { hostname } from 'node:os';
import type { ShardStats } from '../../../engine/protocol/messages.js';
import { notifyTargetsOf } from '../../s3/notifications.js';
import type { AdminReply, AdminRequest, AdminState } from '../context.js';
import { formatBytes } from '../format-bytes.js';
import { table } from '../text-table.js';
import { HANGAR_VERSION, nodeId } from './cluster.js';
import { diskSpace } from './disk.js';
import { onThisNode } from './node-scope.js';
import { notifyTargetJson } from './notify-targets.js';

/** Each shard's Stats (one message each). */
async function shardStats(state: AdminState): Promise<ShardStats[]> {
  return (await state.server.pool.callAll({ kind: 'Stats' }, 'Stats')).map((r) => r.stats);
}

/** GetNodeInfo?node=: Garage's fields (its version field carries hangar's), plus hangar's own. */
export function getNodeInfo(state: AdminState, req: AdminRequest): Promise<AdminReply> {
  return onThisNode(state, req, () => ({
    nodeId: nodeId(state),
    garageVersion: HANGAR_VERSION,
    garageFeatures: null,
    rustVersion: null,
    dbEngine: 'LMDB (lmdb-js), one environment per shard',
    hangarVersion: HANGAR_VERSION,
    nodeVersion: process.version,
    shards: state.shardCount,
    notificationTargets: notifyTargetsOf(state.server).map((target) =>
      notifyTargetJson(target, state.server.config.s3.region),
    ),
  }));
}

/**
 * GetNodeStatistics?node=: Garage's `{ freeform }` text: per-shard objects, blocks, references,
 * deduplication, block errors and busy time, and the data directory's disk.
 */
export function getNodeStatistics(state: AdminState, req: AdminRequest): Promise<AdminReply> {
  return onThisNode(state, req, async () => {
    const [stats, disk] = await Promise.all([
      shardStats(state),
      diskSpace(state.server.config.dataDir),
    ]);
    const rows: string[][] = [];
    stats.forEach((s, shard) => {
      const objects = s.buckets.reduce((sum, b) => sum + b.objects, 0);
      rows.push([
        String(shard),
        String(objects),
        String(s.blocks.stored),
        formatBytes(s.blocks.storedBytes),
        String(s.blocks.references),
        String(s.blocksDeduplicated),
        String(s.blockErrors),
        `${s.busySeconds.toFixed(1)} s`,
      ]);
    });
    const freeform = [
      `hangar version: ${HANGAR_VERSION} (Node.js ${process.version})`,
      `Node id: ${nodeId(state)}`,
      `Data directory: ${state.server.config.dataDir}`,
      '',
      table(
        [
          'Shard',
          'Objects',
          'Blocks',
          'Block bytes',
          'References',
          'Dedup writes',
          'Errors',
          'Busy',
        ],
        rows,
      ),
      '',
      `Storage: ${formatBytes(disk.available)} available of ${formatBytes(disk.total)}`,
    ];
    return { freeform: `${freeform.join('\n')}\n` };
  });
}

/** GetClusterStatistics: Garage's `{ freeform }` text: the one node's capacity and bucket totals. */
export async function getClusterStatistics(state: AdminState): Promise<AdminReply> {
  const [stats, disk] = await Promise.all([
    shardStats(state),
    diskSpace(state.server.config.dataDir),
  ]);
  const objects = stats.reduce((sum, s) => sum + s.buckets.reduce((n, b) => n + b.objects, 0), 0);
  const bytes = stats.reduce((sum, s) => sum + s.buckets.reduce((n, b) => n + b.bytes, 0), 0);
  const stored = stats.reduce((sum, s) => sum + s.blocks.storedBytes, 0);
  const freeform = [
    table(
      ['ID', 'Hostname', 'Shards', 'Data available'],
      [
        [
          nodeId(state),
          hostname(),
          String(state.shardCount),
          `${formatBytes(disk.available)}/${formatBytes(disk.total)} (${((100 * disk.available) / Math.max(1, disk.total)).toFixed(1)}%)`,
        ],
      ],
    ),
    '',
    `Buckets: ${state.server.catalog.listBuckets().length}`,
    `Objects: ${objects} (${formatBytes(bytes)})`,
    `Block bytes referenced per shard, summed: ${formatBytes(stored)} (blocks shared by hard link across shards count once per shard)`,
    `Estimated available storage space: ${formatBytes(disk.available)}`,
  ];
  return { json: { freeform: `${freeform.join('\n')}\n` } };
}
