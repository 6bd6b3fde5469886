# shellcheck shell=bash
# PostgreSQL 15 + Patroni 3.0.2: one member per node, as the postgres user (PostgreSQL refuses root).
# Node N: Patroni REST on PATRONI_REST[N], PostgreSQL on PG_PORT[N] (8008-8010 and 5441-5443, plus
# the port offset), data in DIR/nN/pg/data.

PATRONI_REST=([1]=$(port 8008) [2]=$(port 8009) [3]=$(port 8010))
PG_PORT=([1]=$(port 5441) [2]=$(port 5442) [3]=$(port 5443))
PATRONI_READY_TIMEOUT_S=${PATRONI_READY_TIMEOUT_S:-240}

# patroni_configure N: write nN/patroni.yml. Failover settings are the fast ones the design's tests
# assume (ttl 10, loop_wait 2, retry_timeout 4); synchronous_mode so a failover never loses an
# acknowledged commit.
patroni_configure() {
  local n=$1 home=$DIR/n$n/pg
  mkdir -p "$home"
  cat >"$home/patroni.yml" <<YAML
scope: hangar-local
namespace: /service/
name: pg$n
log:
  level: INFO
restapi:
  listen: 127.0.0.1:${PATRONI_REST[$n]}
  connect_address: 127.0.0.1:${PATRONI_REST[$n]}
etcd3:
  hosts: $ETCD_ENDPOINTS
bootstrap:
  dcs:
    ttl: 10
    loop_wait: 2
    retry_timeout: 4
    maximum_lag_on_failover: 1048576
    synchronous_mode: true
    postgresql:
      use_pg_rewind: true
      remove_data_directory_on_rewind_failure: true
      remove_data_directory_on_diverged_timelines: true
      parameters:
        wal_level: replica
        hot_standby: "on"
        max_wal_senders: 10
        max_replication_slots: 10
        wal_keep_size: 64MB
        shared_buffers: 32MB
        # Every gateway holds a pool per shard and per edge thread and partition; the tests run
        # many gateways (one per test server) against this one cluster.
        max_connections: 500
  initdb:
    - encoding: UTF8
    - locale: C.UTF-8
    - data-checksums
  pg_hba:
    - local all postgres peer
    - host replication replicator 127.0.0.1/32 scram-sha-256
    - host all all 127.0.0.1/32 scram-sha-256
  post_bootstrap: $DIR/post-bootstrap.sh
postgresql:
  listen: 127.0.0.1:${PG_PORT[$n]}
  connect_address: 127.0.0.1:${PG_PORT[$n]}
  data_dir: $home/data
  bin_dir: $PG_BIN
  pgpass: $home/pgpass
  # A replica clones the primary with pg_basebackup; its default spread checkpoint made each clone
  # wait ~90 s on this machine.
  basebackup:
    - checkpoint: fast
  authentication:
    superuser:
      username: postgres
      password: $PG_SUPERUSER_PASSWORD
    replication:
      username: replicator
      password: $PG_REPLICATION_PASSWORD
  parameters:
    unix_socket_directories: $home
YAML
  chmod 600 "$home/patroni.yml"
  chown -R postgres:postgres "$home"
}

# The post_bootstrap hook runs once, on the member that initialises the cluster, before any replica
# clones it: the database and role then exist on every member. Patroni passes a superuser URL.
patroni_write_post_bootstrap() {
  cat >"$DIR/post-bootstrap.sh" <<SH
#!/bin/sh
set -e
psql "\$1" -v ON_ERROR_STOP=1 -q <<SQL
CREATE ROLE hangar LOGIN PASSWORD '$PG_HANGAR_PASSWORD';
CREATE DATABASE hangar OWNER hangar;
SQL
SH
  chown postgres:postgres "$DIR/post-bootstrap.sh"
  chmod 700 "$DIR/post-bootstrap.sh"
}

patroni_start() {
  local n=$1
  spawn "patroni$n" setpriv --reuid=postgres --regid=postgres --init-groups \
    env HOME="$DIR/n$n/pg" patroni "$DIR/n$n/pg/patroni.yml"
}

# postmaster_pid N: the pid postgres recorded in its data dir, if that process is a postgres.
postmaster_pid() {
  local f=$DIR/n$1/pg/data/postmaster.pid pid
  [ -f "$f" ] || return 1
  pid=$(head -n 1 "$f")
  ours "$pid" && grep -q postgres "/proc/$pid/comm" 2>/dev/null && echo "$pid"
}

postgres_gone() { ! postmaster_pid "$1" >/dev/null; }

# postgres_kill N: SIGKILL postgres of node N with every backend (its whole session).
postgres_kill() {
  local pid pids
  pid=$(postmaster_pid "$1") || return 0
  pids=$(session_pids "$pid")
  # shellcheck disable=SC2086 # one pid per word
  [ -n "$pids" ] && kill -9 $pids 2>/dev/null || true
}

patroni_rest() { curl -s -m 2 -o /dev/null -w '%{http_code}' "http://127.0.0.1:${PATRONI_REST[$1]}/$2"; }

# patroni_primary: the node whose Patroni answers 200 on GET /primary (empty when none does).
patroni_primary() {
  local n
  for n in "${NODES[@]}"; do
    [ "$(patroni_rest "$n" primary)" = 200 ] && { echo "$n"; return 0; }
  done
  return 1
}

psql_super() { # psql_super PORT SQL
  PGPASSWORD=$PG_SUPERUSER_PASSWORD psql -h 127.0.0.1 -p "$1" -U postgres -d postgres -XAtq -c "$2"
}

# patroni_has_sync_standby: a primary exists and streams to a synchronous standby.
patroni_has_sync_standby() {
  local p; p=$(patroni_primary) || return 1
  [ "$(psql_super "${PG_PORT[$p]}" "select count(*) from pg_stat_replication where state = 'streaming' and sync_state = 'sync'")" -ge 1 ]
}

# patroni_is_streaming_replica N: node N's WAL receiver streams and Patroni reports it a healthy
# replica (GET /replica answers 200 only once Patroni's own loop has seen it running).
patroni_is_streaming_replica() {
  [ "$(psql_super "${PG_PORT[$1]}" "select status from pg_stat_wal_receiver")" = streaming ] &&
    [ "$(patroni_rest "$1" replica)" = 200 ]
}

patroni_wait_ready() {
  wait_until "$PATRONI_READY_TIMEOUT_S" "patroni: a leader with a streaming sync standby" \
    "patroni1 patroni2 patroni3" patroni_has_sync_standby
}
