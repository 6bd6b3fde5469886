# shellcheck shell=bash
# etcd: one member per node. Client port / peer port of node N: ETCD_CLIENT[N] / ETCD_PEER[N].

ETCD_CLIENT=([1]=2379 [2]=22379 [3]=32379)
ETCD_PEER=([1]=2380 [2]=22380 [3]=32380)
ETCD_ENDPOINTS=127.0.0.1:2379,127.0.0.1:22379,127.0.0.1:32379
ETCD_HEALTHY_TIMEOUT_S=${ETCD_HEALTHY_TIMEOUT_S:-60}

etcd_initial_cluster() {
  local n out=
  for n in "${NODES[@]}"; do out+="${out:+,}n$n=http://127.0.0.1:${ETCD_PEER[$n]}"; done
  echo "$out"
}

# etcd_start N: a member restarted on an existing data dir ignores the --initial-* flags.
etcd_start() {
  local n=$1
  mkdir -p "$DIR/n$n/etcd"
  spawn "etcd$n" etcd --name "n$n" --data-dir "$DIR/n$n/etcd" \
    --listen-client-urls "http://127.0.0.1:${ETCD_CLIENT[$n]}" \
    --advertise-client-urls "http://127.0.0.1:${ETCD_CLIENT[$n]}" \
    --listen-peer-urls "http://127.0.0.1:${ETCD_PEER[$n]}" \
    --initial-advertise-peer-urls "http://127.0.0.1:${ETCD_PEER[$n]}" \
    --initial-cluster "$(etcd_initial_cluster)" \
    --initial-cluster-token hangar-local --initial-cluster-state new
}

etcdctl_all() { ETCDCTL_API=3 etcdctl --endpoints="$ETCD_ENDPOINTS" --dial-timeout=2s --command-timeout=4s "$@"; }

etcd_all_healthy() {
  [ "$(etcdctl_all endpoint health 2>&1 | grep -c 'is healthy')" -eq 3 ]
}

etcd_wait_healthy() {
  wait_until "$ETCD_HEALTHY_TIMEOUT_S" "etcd: 3 healthy members" "etcd1 etcd2 etcd3" etcd_all_healthy
}
