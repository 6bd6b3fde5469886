// Runs in an edge thread (a node:worker_threads Worker started by http/edge-threads.ts): serves
// the S3 and website ports beside the other edge threads, with its own catalog handle and its
// own lane to every shard. The main thread keeps the admin port, supervision and background work.
import { parentPort, workerData } from 'node:worker_threads';
import { assert } from '../../engine/assert.js';
import { Catalog } from '../../engine/catalog/catalog.js';
import { WriteGate } from '../../engine/cluster/write-gate.js';
import { tlsFilesOf } from '../../engine/config.js';
import { LIMITS } from '../../engine/limits.js';
import { createLogger, followLogLevel, type Logger } from '../../engine/log.js';
import { ObjectReader } from '../../engine/meta/object-reader.js';
import {
  type ClientBounds,
  ReadSessionBudget,
  ShardClient,
} from '../../engine/pool/shard-client.js';
import { ShardClients } from '../../engine/pool/shard-clients.js';
import { BufferPool } from '../../engine/protocol/flow.js';
import { AccessLog } from '../access-log/access-log.js';
import { drainConnections } from '../graceful-stop.js';
import type { ServerState } from '../s3/context.js';
import { RequestGate, shareOf } from '../uws/connections.js';
import { type Listener, openListeners, PortLostError } from '../uws/listen.js';
import { loadUws } from '../uws/load.js';
import { acceptRequest, acceptWebsite } from './accept.js';
import type { EdgeData, FromEdge, ToEdge } from './protocol.js';
import { requestRegistry, setEdgeIndex } from './request-metrics.js';

const port = parentPort;
assert(port !== null, 'http/edge/thread.js runs in a worker thread');
const data = workerData as EdgeData;

function tell(message: FromEdge): void {
  port?.postMessage(message);
}

/** This thread's share of the process-wide bounds (LIMITS): N edge threads never exceed them. */
function boundsOf(edgeCount: number): ClientBounds {
  return {
    inFlightMax: shareOf(LIMITS.shardInFlightMax, edgeCount),
  };
}

/**
 * The embedded catalog, or in cluster mode the process's replica of the cluster's (loaded only
 * then: it brings the PostgreSQL client).
 */
async function openCatalog(dataDir: string, logger: Logger): Promise<Catalog> {
  if (data.catalogPg === undefined) return Catalog.open(dataDir);
  const { openCatalogReplica } = await import('../../engine/catalog/cluster-catalog.js');
  return (await openCatalogReplica({ dataDir, pg: data.catalogPg, log: logger })).catalog;
}

async function start(): Promise<{
  listeners: Listener[];
  gates: RequestGate[];
  state: ServerState;
}> {
  const { config, edgeCount } = data;
  setEdgeIndex(data.index);
  // As a shard thread: the process's format, written from this thread straight to stdout, and
  // the level SIGHUP sets.
  const logger = createLogger(data.log).child({ edge: data.index });
  followLogLevel(logger);
  const catalog = await openCatalog(config.dataDir, logger);
  const budget = new ReadSessionBudget(data.shardPorts.length, data.readSessions);
  const bounds = boundsOf(edgeCount);
  const clients = data.shardPorts.map(
    (shardPort, shardId) => new ShardClient(shardId, shardPort, budget, data.lane, bounds),
  );
  const ready = clients.map((client) => client.awaitReady());
  await Promise.all(ready);
  // Opened once the shards are: each shard thread creates its environment.
  const readers = await openReaders(clients.length);
  const state: ServerState = {
    config,
    catalog,
    pool: new ShardClients(clients),
    logger,
    buffers: new BufferPool(),
    readers,
    ...(data.cluster === undefined ? {} : { writeGate: new WriteGate(data.cluster.writeGate) }),
  };
  state.accessLog = await AccessLog.start(state, data.index, edgeCount);
  const s3Gate = new RequestGate(shareOf(LIMITS.requestsInFlightMax, edgeCount));
  const webGate = new RequestGate(shareOf(LIMITS.requestsInFlightMax, edgeCount));
  const tls = tlsFilesOf(config);
  const listeners = openListeners(loadUws(), [
    {
      name: 'S3',
      host: config.s3.host,
      port: data.s3Port,
      tls,
      shared: true,
      mount: (app) => app.any('/*', (res, req) => acceptRequest(state, res, req, s3Gate)),
    },
    {
      name: 'website',
      host: config.web.host,
      port: data.webPort,
      tls,
      shared: true,
      mount: (app) => app.any('/*', (res, req) => acceptWebsite(state, res, req, webGate)),
    },
  ]);
  return { listeners, gates: [s3Gate, webGate], state };
}

/**
 * Each shard's read-only view: the LMDB environment its thread opened, or in cluster mode the
 * partition's PostgreSQL (loaded only then: embedded edges never load the pg client).
 */
async function openReaders(count: number): Promise<ObjectReader[]> {
  const { config, cluster } = data;
  if (cluster === undefined) {
    return Array.from({ length: count }, (_, shardId) =>
      ObjectReader.embedded(config.dataDir, shardId, config.durability === 'fsync'),
    );
  }
  assert(cluster.metadata.length === count, 'a PostgreSQL target for every partition');
  const [{ PgKvEnv }, { pgKvOptionsOf }] = await Promise.all([
    import('../../engine/meta/pg-kv/env.js'),
    import('../../engine/cluster/pg-options.js'),
  ]);
  const opened = await Promise.allSettled(
    cluster.metadata.map((target) =>
      PgKvEnv.open(
        pgKvOptionsOf(target, {
          applicationName: `hangar ${cluster.gatewayName} edge ${data.index}`,
          poolMax: LIMITS.clusterEdgeReadConnectionsMax,
        }),
      ),
    ),
  );
  const failed = opened.find((result) => result.status === 'rejected');
  if (failed !== undefined) {
    // The pools that did open would keep this thread alive: close them before failing.
    for (const result of opened) if (result.status === 'fulfilled') await result.value.close();
    throw failed.reason;
  }
  return opened.map((result) => {
    assert(result.status === 'fulfilled', 'every partition opened');
    return ObjectReader.over(result.value);
  });
}

/** Serves the main thread's requests until it says Stop. */
function serveMain(listeners: Listener[], gates: RequestGate[], state: ServerState): void {
  const clients = state.pool.clients;
  let stopping = false;
  let everyoneDrained: () => void = () => undefined;
  const othersDrained = new Promise<void>((resolve) => {
    everyoneDrained = resolve;
  });
  const cut = (): void => {
    for (const gate of gates) gate.cutRemaining();
  };
  port?.on('message', (message: ToEdge) => {
    switch (message.kind) {
      case 'ShardDown':
        clients[message.shardId]?.markDown();
        break;
      case 'ShardPort':
        void clients[message.shardId]?.reattach(message.port);
        break;
      case 'ReloadTls':
        tell(reloadTls(listeners, message.id));
        break;
      case 'Scrape':
        void requestRegistry.getMetricsAsJSON().then((metrics) =>
          tell({
            kind: 'Scraped',
            id: message.id,
            scrape: {
              metrics,
              shards: clients.map((c) => ({ inFlight: c.inFlight, posted: c.messagesPosted })),
              accessLog: state.accessLog?.status() ?? null,
            },
          }),
        );
        break;
      case 'Stop':
        // A second Stop (a second signal) cuts what the first one's drain still waits for.
        if (stopping) {
          cut();
          break;
        }
        stopping = true;
        void drainConnections(listeners, gates, state.logger, () => {
          tell({ kind: 'Drained' });
          return othersDrained;
        }).then(() => end(state));
        // The drain began (the gates admit nothing more): a halt cuts what it waits for.
        if (message.cut) cut();
        break;
      case 'CloseConnections':
        everyoneDrained();
        break;
    }
  });
  // An uncaught error here would take the whole process down (Node aborts when a thread ends
  // with uWS sockets open): close the sockets, tell the main thread, and end in order.
  process.on('uncaughtException', (error) => {
    tell({ kind: 'Dying', message: error.message, stack: error.stack });
    if (!stopping) for (const listener of listeners) listener.close();
    stopping = true;
    cut();
    for (const listener of listeners) listener.closeConnections();
    void end(state);
  });
}

function reloadTls(listeners: Listener[], id: number): FromEdge {
  let certificate = null;
  try {
    for (const listener of listeners) certificate = listener.reloadCertificate();
    return { kind: 'Reloaded', id, certificate, error: null, portLost: false };
  } catch (error) {
    const portLost = error instanceof PortLostError;
    return { kind: 'Reloaded', id, certificate: null, error: (error as Error).message, portLost };
  }
}

/**
 * Closes what keeps this thread's event loop alive (shard lanes, the catalog, the parent port), so
 * the thread ends by itself: a thread ended by force while uWS sockets are open aborts the process.
 */
let ending = false;

async function end(state: ServerState): Promise<void> {
  if (ending) return;
  ending = true;
  // Accepted records reach the spool before the shard lanes close (delivery stops first).
  await state.accessLog
    ?.stop()
    .catch((error: unknown) =>
      state.logger.error({ err: error }, 'access log spool could not be flushed'),
    );
  for (const client of state.pool.clients) client.close();
  await state.catalog.close();
  for (const reader of state.readers ?? []) await reader.close();
  tell({ kind: 'Stopped' });
  port?.close();
}

start().then(
  ({ listeners, gates, state }) => {
    serveMain(listeners, gates, state);
    tell({ kind: 'Ready' });
  },
  (error: unknown) => {
    const failure = error instanceof Error ? error : new Error(String(error));
    tell({ kind: 'Failed', message: failure.message, stack: failure.stack });
    port.close();
  },
);
