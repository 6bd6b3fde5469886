# shellcheck shell=bash
# etcd: one member per node. Client port / peer port of node N: ETCD_CLIENT[N] / ETCD_PEER[N]
# (2379/2380, 22379/22380, 32379/32380, plus the port offset).

ETCD_CLIENT=([1]=$(port 2379) [2]=$(port 22379) [3]=$(port 32379))
ETCD_PEER=([1]=$(port 2380) [2]=$(port 22380) [3]=$(port 32380))
ETCD_ENDPOINTS=127.0.0.1:${ETCD_CLIENT[1]},127.0.0.1:${ETCD_CLIENT[2]},127.0.0.1:${ETCD_CLIENT[3]}
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
