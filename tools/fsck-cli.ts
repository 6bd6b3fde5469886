import type { Command } from 'commander';
import type { ClusterConfig } from '../engine/cluster/config.js';
import type { HangarConfig } from '../engine/config.js';
import { type FsckReport, fsck } from '../engine/fsck.js';
import { fields } from '../http/admin/text-table.js';
import { OperationError } from './admin-client.js';
import { EXIT_FAILED, openCatalogOffline } from './cli.js';
import type { CliParts } from './maintenance.js';
import type { Output } from './output.js';

interface FsckFlags {
  failOnLeak?: boolean;
  verify?: boolean;
}

/**
 * `hangar fsck`: an embedded data directory (its shards' LMDB and block files), or, when the
 * configuration has a `[cluster]` section, every partition of that cluster (PostgreSQL and
 * RADOS). One report shape and one exit rule for both.
 */
export function registerFsck(program: Command, cli: CliParts): void {
  cli
    .leaf(program, 'fsck', 'check block references against object records and stored blocks')
    .option('--fail-on-leak', 'exit 1 on unreferenced blocks or temp files too, not only on loss')
    .option('--verify', 'hash every stored block (file or RADOS object) against its name')
    .action((opts: FsckFlags, command: Command) =>
      cli.run(command, async (config) => fsckOutput(await reportOf(config, opts), opts)),
    );
}

async function reportOf(config: HangarConfig, opts: FsckFlags): Promise<FsckReport> {
  const verify = opts.verify === true;
  if (config.cluster !== null) return clusterReport(config.cluster, verify);
  // As before: the catalog is opened (a data directory that is not one fails here).
  const catalog = openCatalogOffline(config);
  try {
    return await fsck(config.dataDir, { storage: config.storage, verify });
  } finally {
    await catalog.close();
  }
}

/** A cluster's report; a cluster that is not there or an etcd that does not answer, said so. */
async function clusterReport(cluster: ClusterConfig, verify: boolean): Promise<FsckReport> {
  // Loaded only here: etcd, PostgreSQL and librados stay out of the embedded path.
  const [{ fsckCluster }, { etcdFailure }, { ClusterLayoutError, ClusterStateError }] =
    await Promise.all([
      import('../engine/fsck/cluster.js'),
      import('../engine/cluster/etcd.js'),
      import('../engine/cluster/layout.js'),
    ]);
  try {
    return await fsckCluster(cluster, { verify });
  } catch (error) {
    if (error instanceof ClusterStateError || error instanceof ClusterLayoutError) {
      throw new OperationError(error.message);
    }
    const failure = etcdFailure(error);
    if (failure !== null) {
      throw new OperationError(`etcd at ${cluster.etcdEndpoints.join(', ')}: ${failure}`);
    }
    throw error;
  }
}

function fsckOutput(report: FsckReport, opts: FsckFlags): Output {
  const lost =
    report.missingBlocks.length +
    report.corruptBlocks.length +
    report.refcountMismatches.length +
    report.counterMismatches.length +
    report.damagedBodies.length;
  const leaked =
    report.unreferencedBlocks.length +
    report.unreferencedBodies.length +
    report.duplicateBlockFiles.length +
    report.tempFiles;
  if (lost > 0 || (opts.failOnLeak === true && leaked > 0)) process.exitCode = EXIT_FAILED;
  return {
    json: report,
    human: fields([
      ['shards', String(report.shards)],
      ['objects', String(report.objects)],
      ['upload parts', String(report.parts)],
      ['referenced blocks', String(report.referencedBlocks)],
      ['block files', String(report.blockFiles)],
      ['compressed block files', String(report.compressedBlockFiles)],
      ['duplicate block files', String(report.duplicateBlockFiles.length)],
      ['stored bytes', String(report.storedBytes)],
      ['block directories', report.blockDirectories.join(', ')],
      ['missing blocks', String(report.missingBlocks.length)],
      ['corrupt blocks', opts.verify === true ? String(report.corruptBlocks.length) : '-'],
      ['refcount mismatches', String(report.refcountMismatches.length)],
      ['counter mismatches', String(report.counterMismatches.length)],
      ['unreferenced blocks', String(report.unreferencedBlocks.length)],
      // Cluster mode only: an embedded report's lines stay as they were.
      ...(report.pendingBlocks === undefined
        ? []
        : [['pending blocks', String(report.pendingBlocks)] as const]),
      ['temp files', String(report.tempFiles)],
      ['bodies', String(report.bodies)],
      ['damaged bodies', String(report.damagedBodies.length)],
      ['unreferenced bodies', String(report.unreferencedBodies.length)],
    ]),
  };
}
