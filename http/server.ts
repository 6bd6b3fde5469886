// Runs on the main thread: the admin port, supervision, background workers and the edge threads
// (http/edge-threads.ts) that serve the S3 and website ports.
import { availableParallelism } from 'node:os';
import { assert } from '../engine/assert.js';
import type { Catalog, KeyRecord } from '../engine/catalog/catalog.js';
import { Catalog as CatalogStore } from '../engine/catalog/catalog.js';
import { mergedTargets } from '../engine/catalog/notify-targets.js';
import { type HangarConfig, tlsFilesOf } from '../engine/config.js';
import { ensurePrivateDir, PRIVATE_UMASK } from '../engine/data-dir.js';
import { prepareDataDirs } from '../engine/data-dirs.js';
import { ensureLayout } from '../engine/layout.js';
import type { Logger } from '../engine/log.js';
import { RestoreQueueView } from '../engine/meta/restore-view.js';
import { ShardPool } from '../engine/pool/shard-pool.js';
import { BufferPool } from '../engine/protocol/flow.js';
import { DrainWorker } from '../engine/workers/drain.js';
import { OrphanSweeper } from '../engine/workers/orphan-sweep.js';
import { WorkerRegistry } from '../engine/workers/registry.js';
import { ScrubWorker } from '../engine/workers/scrub.js';
import { AccessLogWorkerView } from './access-log/worker-view.js';
import { connectableEndpoint, removeAdminFile, writeAdminFile } from './admin/discovery.js';
import { ensureLocalAdminToken, removeLocalAdminToken } from './admin/local-token.js';
import { bindMetricsSources } from './admin/metrics.js';
import { mountAdminApi } from './admin/server.js';
import {
  collectBlocksOnLeader,
  edgeClusterOf,
  openCatalogOf,
  openCluster,
  runWhileLeading,
} from './cluster-boot.js';
import { EdgeThreads } from './edge-threads.js';
import { setHealth } from './health.js';
import { InventoryWorker } from './inventory/worker.js';
import { LifecycleRunner, type LifecycleRunResult } from './lifecycle-runner.js';
import { NotifyDelivery, TargetSenders } from './notify-delivery.js';
import { ReplicationWorker } from './replication/worker.js';
import { RestoreWorker } from './restore-worker.js';
import { withConsoleOrigins } from './s3/console-cors.js';
import type { ServerState } from './s3/context.js';
import { keyringOf } from './s3/sse.js';
import { superviseEdges, superviseShards } from './shard-supervisor.js';
import {
  type CertificateInfo,
  claimPort,
  type Listener,
  openListeners,
  readCertificate,
} from './uws/listen.js';
import { loadUws } from './uws/load.js';

export interface RunningServer {
  readonly endpoint: string;
  readonly port: number;
  /** The static website endpoint (buckets by Host header). */
  readonly webEndpoint: string;
  readonly webPort: number;
  /** The admin API endpoint (Garage-style /v2/..., /metrics, /health). */
  readonly adminEndpoint: string;
  readonly adminPort: number;
  readonly rootKey: KeyRecord;
  /**
   * Rereads the TLS certificate and key and serves them to new connections on every port (on
   * SIGHUP); open connections keep theirs. Null without TLS; throws (old files still served)
   * when the new ones are unusable.
   */
  reloadTls(): Promise<CertificateInfo | null>;
  /** Runs every bucket's lifecycle rules now (also on SIGUSR2); resolves with the counts. */
  runLifecycleNow(): Promise<LifecycleRunResult>;
  stop(): Promise<void>;
  /** Ends the edge threads at once (requests in flight cut): before an exit without a clean
   *  stop, which must not happen while they run (Node aborts). */
  halt(): Promise<void>;
}

/** Opens the data directory, starts the shard actors and serves S3 on the configured port. */
export async function startServer(config: HangarConfig, logger: Logger): Promise<RunningServer> {
  setHealth('starting');
  const tls = tlsFilesOf(config);
  // A certificate mistake is a configuration error: say so before any shard starts.
  if (tls !== null) readCertificate(tls);
  const uws = loadUws();
  // Everything hangar writes (catalog, blocks, shard metadata) is for its own user only.
  process.umask(PRIVATE_UMASK);
  const wider = ensurePrivateDir(config.dataDir);
  if (wider !== null)
    logger.warn(
      { dataDir: config.dataDir, mode: wider.previousMode.toString(8) },
      wider.tightened
        ? 'the data directory was open to other users: its mode is now 0700'
        : 'the data directory is open to other users and belongs to another user: make it 0700',
    );
  const layout = ensureLayout(config.dataDir, config.shards);
  prepareDataDirs(config, layout.shards);
  // Cluster mode: etcd answers and the layout agrees before the catalog or any shard opens.
  const cluster =
    config.cluster === null ? null : await openCluster(config.cluster, layout.shards, logger);
  const shared =
    cluster === null
      ? null
      : await openCatalogOf(cluster, config.dataDir, config.sse.masterKeyFile, logger).catch(
          async (error: unknown) => {
            await cluster.stop();
            throw error;
          },
        );
  const catalog = shared?.catalog ?? CatalogStore.open(config.dataDir);
  // SSE-S3 / SSE-KMS: the master key exists (generated 0600 on first start) before any thread
  // may need it; a missing or malformed key (file or HANGAR_SSE_MASTER_KEY), or one that opens
  // nothing the keyring holds, stops the start here, not at the first encrypted GET.
  keyringOf({ config, catalog }).checkMasterKeys();
  const rootKey = await ensureRootKey(catalog, config, logger);
  let edges: EdgeThreads | undefined;
  const pool = await ShardPool.start(
    {
      dataDir: config.dataDir,
      shardCount: layout.shards,
      blockBytes: config.blockBytes,
      inlineBytesMax: config.inlineBytesMax,
      blockCompression: config.blockCompression,
      durable: config.durability === 'fsync',
      sseMasterKeyFile: config.sse.masterKeyFile,
      storage: config.storage,
      kvStrict: config.kvStrict,
      ...(cluster === null ? {} : { clusterShards: cluster.allShardSettings() }),
    },
    superviseShards(logger, () => edges?.halt() ?? Promise.resolve()),
  ).catch(async (error: unknown) => {
    if (cluster !== null) await catalog.close();
    await cluster?.stop();
    throw error;
  });
  if (cluster !== null) collectBlocksOnLeader(cluster, pool, logger);
  const state: ServerState = { config, catalog, pool, logger, buffers: new BufferPool() };
  void purgeDeletedBuckets(state);
  const lifecycle = new LifecycleRunner(
    catalog,
    pool.clients,
    logger,
    config.clockOffsetMs,
    config.s3.region,
  );
  runWhileLeading(cluster, 'lifecycle', lifecycle);
  lifecycle.start();
  const restores = new RestoreWorker(
    catalog,
    pool.clients,
    logger,
    config.clockOffsetMs,
    config.s3.region,
    cluster !== null
      ? null
      : Array.from(
          { length: layout.shards },
          (_, shardId) =>
            new RestoreQueueView(config.dataDir, shardId, config.durability === 'fsync'),
        ),
  );
  runWhileLeading(cluster, 'restore', restores);
  restores.start();
  // Local block files only: in cluster mode blocks are RADOS objects (Ceph scrubs them; the
  // leader's block GC collects them), and the shards refuse these passes.
  const scrub = new ScrubWorker(config.dataDir, pool.clients, logger);
  if (cluster === null) await scrub.start();
  const orphans = new OrphanSweeper(pool.clients, logger);
  if (cluster === null) orphans.start();
  const notify = new NotifyDelivery(
    () => mergedTargets(config.notify.targets, catalog.notifyTargets.list()),
    pool.clients,
    new TargetSenders(),
    logger,
  );
  runWhileLeading(cluster, 'notifications', notify);
  notify.start();
  const accessLog = new AccessLogWorkerView(() => edges?.scrape() ?? Promise.resolve([]));
  // Started once the S3 port is open: it reads the versions it sends through that port.
  const replication = new ReplicationWorker(catalog, pool.clients, logger, config.s3.region);
  runWhileLeading(cluster, 'replication', replication);
  const inventory = new InventoryWorker(state);
  runWhileLeading(cluster, 'inventory', inventory);
  inventory.start();
  const drain = new DrainWorker(pool.clients, config.storage, logger);
  if (cluster === null) drain.start();
  const workers = new WorkerRegistry(
    cluster === null ? { scrub, orphans } : null,
    lifecycle,
    notify,
    accessLog,
    replication,
    inventory,
    restores,
    // Listed only while a data directory is read_only: the others have nothing to drain.
    drain.hasWork ? drain : undefined,
  );
  const stopWorkers = async (): Promise<void> => {
    await Promise.all([
      lifecycle.stop(),
      restores.stop(),
      scrub.stop(),
      orphans.stop(),
      notify.stop(),
      replication.stop(),
      inventory.stop(),
      drain.stop(),
    ]);
  };
  const scheme = tls === null ? 'http' : 'https';
  const localToken = localAdminToken(config);
  let admin: Listener | undefined;
  let s3PortClaimed: number;
  try {
    s3PortClaimed = claimPort(uws, 'S3', config.s3.host, config.s3.port);
    // Registered (the write gate open, campaigns begun) before the edges serve a request.
    await cluster?.join(connectableEndpoint(config.s3.host, s3PortClaimed, scheme));
    const adminState = {
      server: state,
      startedMs: Date.now(),
      shardCount: layout.shards,
      workers,
      localToken,
      s3Listener: { scheme, host: config.s3.host, port: s3PortClaimed, region: config.s3.region },
      replicationAdded: () => replication.wake(),
      ...(cluster === null ? {} : { writeGate: cluster.writeGate }),
    } as const;
    // The admin listener opens before the edge threads start: they answer CORS for the web
    // console's origin (the admin listener's), so they must know its port; and a port held open
    // cannot be taken by another process meanwhile (a port probed, then released, could).
    [admin] = openListeners(uws, [
      {
        name: 'admin',
        host: config.admin.host,
        port: config.admin.port,
        tls,
        mount: (app) => mountAdminApi(app, adminState),
      },
    ]);
    assert(admin !== undefined, 'the admin listener');
    edges = await EdgeThreads.start(
      {
        config: withConsoleOrigins(config, scheme, admin.port),
        count: config.edgeThreads ?? availableParallelism(),
        s3Port: s3PortClaimed,
        webPort: claimPort(uws, 'website', config.web.host, config.web.port),
        ...(cluster === null ? {} : { cluster: edgeClusterOf(cluster) }),
        ...(shared === null ? {} : { catalogPg: shared.pg }),
      },
      pool,
      superviseEdges(logger),
      logger,
    );
  } catch (error) {
    admin?.close();
    await stopWorkers();
    await pool.stop();
    if (cluster !== null) await catalog.close();
    await cluster?.stop();
    throw error;
  }
  const serving = edges;
  bindMetricsSources({
    dataDir: config.dataDir,
    shards: pool.clients,
    catalog,
    edges: () => serving.scrape(),
  });
  const port = serving.s3Port;
  const webPort = serving.webPort;
  replication.start({
    endpoint: connectableEndpoint(config.s3.host, port, scheme),
    region: config.s3.region,
    root: rootKey,
  });
  const endpoint = `${scheme}://${config.s3.host}:${port}`;
  const webEndpoint = `${scheme}://${config.web.host}:${webPort}`;
  const { endpoint: adminEndpoint, port: adminPort } = admin;
  // The CLI finds the running server (and talks to its admin API, not to the files) by this.
  const announceAdmin = (): void =>
    writeAdminFile(config.dataDir, {
      endpoint: connectableEndpoint(config.admin.host, adminPort, admin.scheme),
      pid: process.pid,
      ...(admin.certificate === null
        ? {}
        : { certificateSha256: admin.certificate.fingerprint256 }),
    });
  announceAdmin();
  setHealth('ok', layout.shards);
  logger.info(
    { endpoint, shards: layout.shards, edgeThreads: serving.count, dataDir: config.dataDir },
    'hangar S3 endpoint ready',
  );
  logger.info(
    { webEndpoint, rootDomains: config.web.rootDomains },
    'hangar website endpoint ready',
  );
  logger.info(
    { adminEndpoint, token: localToken === null ? 'configured' : 'local' },
    'hangar admin endpoint ready',
  );
  return {
    endpoint,
    port,
    webEndpoint,
    webPort,
    adminEndpoint,
    adminPort,
    rootKey,
    runLifecycleNow: () => lifecycle.runNow(),
    halt: () => serving.halt(),
    reloadTls: async () => {
      if (tls === null) return null;
      // The admin port rereads and checks the files first: a bad pair throws before any swap.
      const served = admin.reloadCertificate();
      announceAdmin();
      return (await serving.reloadTls()) ?? served;
    },
    stop: async () => {
      // Each edge thread drains its own requests (http/graceful-stop.ts); /health says
      // 'stopping' meanwhile on the admin connections still open.
      setHealth('stopping');
      // First: its PUTs in flight are aborted (their rows stay queued) before the S3 port closes.
      await replication.stop();
      admin.close();
      await serving.stop();
      admin.closeConnections();
      await stopWorkers();
      await pool.stop();
      // After the workers stopped: resigning hands their jobs to another gateway, which must
      // not start while this one's passes are still ending. Leaving revokes the lease. The
      // cluster catalog watches etcd through the runtime's client: it closes first.
      bindMetricsSources(null);
      if (cluster !== null) await catalog.close();
      await cluster?.stop();
      if (cluster === null) await catalog.close();
      // Last: while it exists the CLI knows a server owns the data directory (and does not open
      // the catalog itself), which stays true until the catalog is closed.
      removeAdminFile(config.dataDir);
    },
  };
}

/**
 * The admin token the local CLI uses when the operator configured none (generated into the data
 * directory on the first start); null when one is configured.
 */
function localAdminToken(config: HangarConfig): string | null {
  if (config.admin.adminToken !== null) {
    removeLocalAdminToken(config.dataDir);
    return null;
  }
  return ensureLocalAdminToken(config.dataDir);
}

/**
 * The root key: from HANGAR_ROOT_ACCESS_KEY / HANGAR_ROOT_SECRET_KEY when set, otherwise the one
 * generated on the data directory's first start and kept in its catalog. Setting a new pair
 * rotates it: the previous root key is deleted (and said so in the log), not left with every right.
 */
async function ensureRootKey(
  catalog: Catalog,
  config: HangarConfig,
  logger: Logger,
): Promise<KeyRecord> {
  if (config.rootAccessKey !== null && config.rootSecretKey !== null) {
    const { key, removed } = await catalog.putRootKey(config.rootAccessKey, config.rootSecretKey);
    if (removed.length > 0) {
      logger.warn(
        { removed, rootAccessKey: key.accessKeyId },
        'root key rotated: the previous root keys are deleted',
      );
    }
    return key;
  }
  const existing = catalog.listKeys().find((key) => key.root);
  if (existing !== undefined) return existing;
  const created = await catalog.createKey('root');
  return (await catalog.putRootKey(created.accessKeyId, created.secretAccessKey)).key;
}

/** Objects of buckets deleted while a PUT raced the deletion are removed at start-up. */
function purgeDeletedBuckets(state: ServerState): Promise<void> {
  return state.pool.purgeDeadBuckets([...state.catalog.liveBucketIds()], (error) =>
    state.logger.error({ err: error }, 'purging objects of deleted buckets failed'),
  );
}
