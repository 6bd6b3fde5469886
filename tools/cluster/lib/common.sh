# shellcheck shell=bash
# Shared helpers of local-cluster.sh: process spawning and killing by pid file, bounded waits.
# Every daemon runs in its own session (setsid), so its pid is also its process group: a kill
# reaches the daemon and whatever it forked into that group, and never anything else.

PG_BIN=/usr/lib/postgresql/15/bin
NODES=(1 2 3)

# PORT_OFFSET is added to every fixed port of the topology, so that two topologies (say the
# integration tests' at offset 0 and a benchmark's at 100) run side by side. `start` takes it from
# HANGAR_CLUSTER_PORT_OFFSET (default 0) and records it in DIR/port-offset; every later command on
# DIR reads it from there, so `status DIR` or `kill-node DIR N` never needs the variable again.
# The highest fixed port is 32380: an offset up to 33000 keeps every port below 65536.
MAX_PORT_OFFSET=33000
set_port_offset() {
  local wanted=${HANGAR_CLUSTER_PORT_OFFSET:-}
  if [ -f "$DIR/port-offset" ]; then
    PORT_OFFSET=$(cat "$DIR/port-offset")
    [ -z "$wanted" ] || [ "$wanted" = "$PORT_OFFSET" ] ||
      die "HANGAR_CLUSTER_PORT_OFFSET=$wanted, but the topology in $DIR runs at offset $PORT_OFFSET"
  else
    PORT_OFFSET=${wanted:-0}
  fi
  [[ "$PORT_OFFSET" =~ ^[0-9]+$ ]] && [ "$PORT_OFFSET" -le "$MAX_PORT_OFFSET" ] ||
    die "the port offset must be an integer from 0 to $MAX_PORT_OFFSET (got '$PORT_OFFSET')"
}
# port N: fixed port N of the topology, moved by the offset.
port() { echo $(($1 + PORT_OFFSET)); }

log() { printf '[local-cluster %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

pidfile_of() { echo "$DIR/pids/$1.pid"; }
logfile_of() { echo "$DIR/logs/$1.log"; }

# spawn NAME CMD...: start CMD in a new session, stdout/stderr to logs/NAME.log, pid to pids/NAME.pid.
# Job control is off in a script, so the background child is not a group leader and setsid execs in
# place: $! is the daemon's own pid (and its process group id).
spawn() {
  local name=$1; shift
  setsid "$@" >>"$(logfile_of "$name")" 2>&1 </dev/null &
  echo $! >"$(pidfile_of "$name")"
}

# ours PID: PID is alive, not a zombie, and one of this cluster's processes (every daemon started
# here names DIR on its command line), so a stale pid file never reaches a recycled pid.
ours() {
  [ -n "$1" ] && [ -d "/proc/$1" ] && ! grep -q '^State:.*Z' "/proc/$1/status" 2>/dev/null &&
    tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null | grep -qF "$DIR/"
}

# running NAME: the daemon in pids/NAME.pid is alive.
running() {
  local pf; pf=$(pidfile_of "$1")
  [ -f "$pf" ] && ours "$(cat "$pf")"
}

# signal_group NAME SIG: send SIG to the process group of the daemon named NAME, if it runs.
signal_group() {
  running "$1" || return 0
  kill "-$2" -- "-$(cat "$(pidfile_of "$1")")" 2>/dev/null || true
}

# kill_hard NAME: SIGKILL the daemon's group, wait (bounded) until it is gone, drop its pid file.
kill_hard() {
  signal_group "$1" KILL
  wait_gone "$1" 10
  rm -f "$(pidfile_of "$1")"
}

# stop_gently NAME SECONDS: SIGTERM, wait up to SECONDS, then SIGKILL.
stop_gently() {
  running "$1" || { rm -f "$(pidfile_of "$1")"; return 0; }
  signal_group "$1" TERM
  wait_gone "$1" "$2" || true
  kill_hard "$1"
}

wait_gone() {
  local name=$1 limit=$2 t=0
  while running "$name"; do
    [ "$t" -ge $((limit * 10)) ] && return 1
    sleep 0.1; t=$((t + 1))
  done
}

# wait_until SECONDS WHAT LOGS CMD...: poll CMD every second until it succeeds. On timeout, fail
# loudly with the tail of each log named in LOGS (space-separated names under logs/).
wait_until() {
  local limit=$1 what=$2 logs=$3; shift 3
  local start=$SECONDS
  until "$@" >/dev/null 2>&1; do
    if [ $((SECONDS - start)) -ge "$limit" ]; then
      log "timed out after ${limit}s waiting for: $what"
      local l; for l in $logs; do
        log "--- tail of $(logfile_of "$l")"; tail -n 30 "$(logfile_of "$l")" >&2 2>/dev/null || true
      done
      return 1
    fi
    sleep 1
  done
  log "$what ($((SECONDS - start))s)"
}

# session_pids PID: every process in PID's session (postgres runs in a session Patroni made).
session_pids() {
  local sid; sid=$(ps -o sid= -p "$1" 2>/dev/null | tr -d ' ')
  [ -n "$sid" ] && ps -e -o pid=,sid= | awk -v s="$sid" '$2 == s { print $1 }'
}

check_node() { case "${1:-}" in 1|2|3) ;; *) die "node must be 1, 2 or 3 (got '${1:-}')";; esac; }

set_port_offset
