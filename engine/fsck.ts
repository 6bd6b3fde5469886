/**
 * `hangar fsck`: the record recount (engine/fsck/records.ts, over the metadata seam) and the
 * block listing of an embedded data directory (engine/fsck/embedded.ts) or of a cluster's
 * RADOS namespaces (engine/fsck/cluster.ts, loaded only in cluster mode: it needs etcd,
 * PostgreSQL and librados).
 */
export { type FsckOptions, fsck } from './fsck/embedded.js';
export type { FsckReport } from './fsck/report.js';
