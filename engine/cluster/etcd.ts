import { Etcd3, EtcdError, GRPCGenericError } from 'etcd3';
import { LIMITS } from '../limits.js';

/**
 * The one way hangar opens an etcd client: every unary call has a deadline (a call to a
 * stopped etcd must fail, not hang a CLI or a placement forever); streams (watches, lease
 * keepalives) have none, they are watched by their own timers. Load this module lazily
 * (`await import`): it pulls in the gRPC client.
 */
export function connectEtcd(endpoints: readonly string[]): Etcd3 {
  return new Etcd3({
    hosts: endpoints.map((e) => (/^https?:\/\//.test(e) ? e : `http://${e}`)),
    dialTimeout: LIMITS.clusterEtcdCallTimeoutMs,
    defaultCallOptions: (context) =>
      context.isStream ? {} : { deadline: Date.now() + LIMITS.clusterEtcdCallTimeoutMs },
  });
}

/** An error of etcd or of the way to it (unreachable, deadline, refused), as one line. */
export function etcdFailure(error: unknown): string | null {
  if (!(error instanceof EtcdError || error instanceof GRPCGenericError)) return null;
  return error.message.split('\n')[0] ?? error.name;
}
