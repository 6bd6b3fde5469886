#!/usr/bin/env bash
# The one-machine cluster topology of issue 19: three "nodes", each one etcd member, one PostgreSQL 15
# + Patroni member and one Ceph OSD, plus one Ceph monitor and manager. Debian binaries, no Docker,
# every listener on 127.0.0.1, every daemon tracked by a pid file under DIR/pids.
#
# usage: local-cluster.sh COMMAND DIR [N]
#   start DIR         create and boot the whole topology in DIR (must be empty or absent); returns
#                     when etcd has 3 healthy members, Patroni a leader streaming to a sync standby,
#                     and Ceph is HEALTH_OK. Writes DIR/cluster.json, DIR/credentials, DIR/ceph.conf.
#   stop DIR          stop every daemon (TERM, then KILL) and leave DIR on disk
#   status DIR        what runs, etcd health, Patroni roles, Ceph health
#   primary DIR       print the node (1-3) whose Patroni answers 200 on GET /primary
#   kill-node DIR N   kill -9 node N's etcd, Patroni, PostgreSQL and OSD
#   start-node DIR N  start them again (they rejoin: etcd member, Patroni replica, OSD)
#   kill-osd DIR N    kill -9 node N's OSD (osd.N-1);  start-osd DIR N  starts it again
#   kill-etcd DIR N   kill -9 node N's etcd member;    start-etcd DIR N starts it again
#   pause-etcd DIR N  SIGSTOP node N's etcd member (silent, as behind a cut link); resume-etcd DIR N
#   wait-etcd-healthy DIR  wait until all 3 etcd members are healthy
#   wait-replica DIR N   wait until node N's PostgreSQL streams as a replica
#   wait-health-ok DIR   wait until Ceph reports HEALTH_OK
# Ports: see tools/cluster/README.md. HANGAR_CLUSTER_PORT_OFFSET=N (start only; default 0) adds N
# to every fixed port, so two topologies run side by side; DIR/cluster.json lists the ports.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cmd=${1:-}; DIR=${2:-}
[ -n "$cmd" ] && [ -n "$DIR" ] || { sed -n '2,23p' "$0" | sed 's/^# \{0,1\}//'; exit 2; }
DIR=$(realpath -m "$DIR")
# shellcheck source=lib/common.sh
. "$HERE/lib/common.sh"
# shellcheck source=lib/etcd.sh
. "$HERE/lib/etcd.sh"
# shellcheck source=lib/patroni.sh
. "$HERE/lib/patroni.sh"
# shellcheck source=lib/ceph.sh
. "$HERE/lib/ceph.sh"

load_secrets() {
  [ -f "$DIR/credentials" ] || die "$DIR/credentials missing: was the cluster started in $DIR?"
  # shellcheck source=/dev/null
  . "$DIR/credentials"
}

new_secret() { head -c 18 /dev/urandom | od -An -tx1 | tr -d ' \n'; }

write_secrets() {
  PG_SUPERUSER_PASSWORD=$(new_secret); PG_REPLICATION_PASSWORD=$(new_secret); PG_HANGAR_PASSWORD=$(new_secret)
  umask 077
  cat >"$DIR/credentials" <<ENV
PG_SUPERUSER_PASSWORD=$PG_SUPERUSER_PASSWORD
PG_REPLICATION_PASSWORD=$PG_REPLICATION_PASSWORD
PG_HANGAR_PASSWORD=$PG_HANGAR_PASSWORD
ENV
  umask 022
}

# cluster.json: everything a client (a test, a hangar gateway) needs to reach the topology.
# Every port is written out (offset included), so clients never compute one.
write_cluster_json() {
  local nodes; nodes=$(for n in "${NODES[@]}"; do
    echo "{\"etcd\": ${ETCD_CLIENT[$n]}, \"pg\": ${PG_PORT[$n]}, \"rest\": ${PATRONI_REST[$n]}}"
  done | jq -s .)
  jq -n --arg dir "$DIR" --arg pw "$PG_HANGAR_PASSWORD" --arg pool "$CEPH_POOL" \
    --argjson nodes "$nodes" --argjson offset "$PORT_OFFSET" --argjson mon "$CEPH_MON_PORT" '{
    portOffset: $offset,
    etcd: { endpoints: [$nodes[] | "http://127.0.0.1:\(.etcd)"] },
    postgres: { hosts: [$nodes[] | {host: "127.0.0.1", port: .pg}],
                database: "hangar", user: "hangar", password: $pw },
    patroni: { rest: [$nodes[] | "http://127.0.0.1:\(.rest)"] },
    ceph: { conf: ($dir + "/ceph.conf"), keyring: ($dir + "/ceph/keyring.client.admin"), pool: $pool,
            monPort: $mon }
  }' >"$DIR/cluster.json"
  chmod 600 "$DIR/cluster.json"
}

# A start that fails anywhere stops what it started (the logs stay in DIR/logs) and fails loudly.
on_start_exit() {
  [ "$1" = 0 ] && return 0
  log "start failed (exit $1): stopping what was started; logs are in $DIR/logs"
  cmd_stop || true
}

# The topology's fixed ports: a second cluster (or a leftover daemon) on them would make this one
# fail in confusing ways much later, so start refuses at once.
TOPOLOGY_PORTS=("${ETCD_CLIENT[@]}" "${ETCD_PEER[@]}" "${PATRONI_REST[@]}" "${PG_PORT[@]}" "$CEPH_MON_PORT")
ports_in_use() {
  local p
  for p in "${TOPOLOGY_PORTS[@]}"; do
    (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null && echo "$p"
  done
  return 0
}

cmd_start() {
  [ ! -e "$DIR" ] || [ -z "$(ls -A "$DIR")" ] || die "$DIR is not empty (stop it and remove it first)"
  local busy; busy=$(ports_in_use | tr '\n' ' ')
  [ -z "$busy" ] || die "ports already in use on 127.0.0.1: $busy(is another local cluster running?)"
  local t0=$SECONDS
  # postgres must traverse DIR (a mktemp dir is 0700 root); the secrets stay 0600 root.
  mkdir -p "$DIR/pids" "$DIR/logs"; chmod 755 "$DIR"
  echo "$PORT_OFFSET" >"$DIR/port-offset"
  trap 'on_start_exit $?' EXIT
  write_secrets
  for n in "${NODES[@]}"; do etcd_start "$n"; done
  # Ceph's monitor bootstraps while etcd elects, so the two slow starts overlap.
  ceph_configure; ceph_bootstrap_mon
  etcd_wait_healthy
  patroni_write_post_bootstrap
  for n in "${NODES[@]}"; do patroni_configure "$n"; patroni_start "$n"; done
  ceph_bootstrap_mgr
  for n in "${NODES[@]}"; do ceph_create_osd "$n"; done
  ceph_wait_osds_up 3
  ceph_create_pool
  patroni_wait_ready
  ceph_wait_health_ok
  write_cluster_json
  trap - EXIT
  echo $((SECONDS - t0)) >"$DIR/startup-seconds"
  log "cluster up in $((SECONDS - t0))s: primary is node $(patroni_primary); config in $DIR/cluster.json"
}

# Patroni first, gently: a fast shutdown of its postgres, with no failover of a cluster going away.
cmd_stop() {
  [ -d "$DIR/pids" ] || return 0
  local t0=$SECONDS
  for n in "${NODES[@]}"; do signal_group "patroni$n" TERM; done
  for n in "${NODES[@]}"; do stop_gently "patroni$n" 20; postgres_kill "$n"; done
  log "patroni and postgres stopped ($((SECONDS - t0))s)"
  for name in osd.0 osd.1 osd.2 mgr.x mon.a; do signal_group "$name" TERM; done
  for name in osd.0 osd.1 osd.2 mgr.x mon.a; do stop_gently "$name" 10; done
  log "ceph stopped ($((SECONDS - t0))s)"
  # One etcd member at a time: a leader stopping hands leadership to a live peer at once, where
  # members stopping together wait out that transfer (~7 s here).
  # A paused member (pause-etcd) would sit out its SIGTERM: wake it first.
  for n in "${NODES[@]}"; do signal_group "etcd$n" CONT; stop_gently "etcd$n" 10; done
  log "etcd stopped ($((SECONDS - t0))s)"
  local left; left=$(ls "$DIR/pids")
  [ -z "$left" ] || die "pid files left in $DIR/pids: $left"
  log "stopped"
}

cmd_status() {
  load_secrets
  local pf
  for pf in "$DIR"/pids/*.pid; do
    [ -f "$pf" ] || continue
    local name; name=$(basename "$pf" .pid)
    if running "$name"; then echo "$name: running (pid $(cat "$pf"))"; else echo "$name: dead"; fi
  done
  echo "--- etcd"; etcdctl_all endpoint health 2>&1 || true
  echo "--- patroni"
  for n in "${NODES[@]}"; do
    echo "node $n: $(curl -s -m 2 "http://127.0.0.1:${PATRONI_REST[$n]}/patroni" | jq -c '{role, state, timeline}' 2>/dev/null || echo unreachable)"
  done
  echo "--- ceph"; cephc -s 2>&1 || true
}

# All of the node's processes get SIGKILL in one kill(1) call, as when its machine dies: none of
# them sees another of the node's daemons go first.
cmd_kill_node() {
  check_node "$1"
  local daemons=("etcd$1" "patroni$1" "osd.$(osd_id_of_node "$1")") targets=() d pid
  for d in "${daemons[@]}"; do running "$d" && targets+=("-$(cat "$(pidfile_of "$d")")"); done
  if pid=$(postmaster_pid "$1"); then
    # shellcheck disable=SC2207 # one pid per word
    targets+=($(session_pids "$pid"))
  fi
  [ "${#targets[@]}" -eq 0 ] || kill -9 -- "${targets[@]}" 2>/dev/null || true
  for d in "${daemons[@]}"; do kill_hard "$d"; done
  wait_until 10 "node $1's postgres is gone" "" postgres_gone "$1"
  log "node $1 killed (etcd, patroni, postgres, osd.$(osd_id_of_node "$1"))"
}

cmd_start_node() {
  check_node "$1"; load_secrets
  running "etcd$1" || etcd_start "$1"
  running "patroni$1" || patroni_start "$1"
  running "osd.$(osd_id_of_node "$1")" || ceph_start_osd "$1"
  log "node $1 started"
}

case "$cmd" in
  start) cmd_start ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  primary) load_secrets; patroni_primary || die "no member answers 200 on GET /primary" ;;
  kill-node) cmd_kill_node "${3:-}" ;;
  start-node) cmd_start_node "${3:-}" ;;
  kill-osd) check_node "${3:-}"; ceph_kill_osd "$3" ;;
  start-osd) check_node "${3:-}"; running "osd.$(osd_id_of_node "$3")" || ceph_start_osd "$3" ;;
  wait-replica) check_node "${3:-}"; load_secrets
    wait_until "$PATRONI_READY_TIMEOUT_S" "node $3 streams as a replica" "patroni$3" patroni_is_streaming_replica "$3" ;;
  wait-health-ok) ceph_wait_health_ok ;;
  kill-etcd) check_node "${3:-}"; kill_hard "etcd$3" ;;
  start-etcd) check_node "${3:-}"; running "etcd$3" || etcd_start "$3" ;;
  # A stopped member keeps its sockets open and answers nothing: its clients wait out their
  # timeouts, as behind a cut link, where a killed one would refuse connections at once.
  pause-etcd) check_node "${3:-}"; running "etcd$3" || die "etcd$3 is not running"; signal_group "etcd$3" STOP ;;
  resume-etcd) check_node "${3:-}"; signal_group "etcd$3" CONT ;;
  wait-etcd-healthy) etcd_wait_healthy ;;
  *) die "unknown command '$cmd' (see: $0 without arguments)" ;;
esac
