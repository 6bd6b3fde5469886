/**
 * A shard actor serves several mailboxes ("lanes"): lane 0 is the main thread's (admin API,
 * background workers, metrics), and every edge thread has one per shard (see http/edge/). Each
 * lane owns a range of request ids, so the shard keeps one session table for all of them and a
 * reply finds its lane from its reqId alone, without a lookup per request.
 *
 * 2^40 ids per lane last 127 days at 100,000 requests a second before the range wraps; 2^53 /
 * 2^40 = 8192 lanes (edge threads that restart take fresh lanes) stay exact in a double.
 */
export const LANE_REQ_IDS = 2 ** 40;
export const LANES_MAX = 2 ** 13;

/** The lane a request id belongs to. */
export function laneOf(reqId: number): number {
  return Math.floor(reqId / LANE_REQ_IDS);
}

/** The lane's first id, reserved: reqId 0 of a lane's own port announces the shard ready. */
export function laneBase(lane: number): number {
  return lane * LANE_REQ_IDS;
}
