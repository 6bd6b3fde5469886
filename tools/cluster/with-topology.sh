#!/usr/bin/env bash
# with-topology.sh COMMAND...: starts the one-machine cluster topology (local-cluster.sh) in a
# fresh temp dir, runs COMMAND with HANGAR_TEST_CLUSTER_DIR naming it (test servers and the
# cluster tests attach to it instead of starting their own), then stops the topology and removes
# the dir, whatever COMMAND's outcome. Exits with COMMAND's status (or the start's, if it failed).
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
[ "$#" -gt 0 ] || { echo "usage: $0 COMMAND..." >&2; exit 2; }
DIR=$(mktemp -d "${TMPDIR:-/tmp}/hangar-topology-XXXXXX")
stop_topology() {
  "$HERE/local-cluster.sh" stop "$DIR" || { echo "with-topology: stop failed; pid files in $DIR/pids" >&2; return 1; }
  rm -rf "$DIR"
}
trap stop_topology EXIT
"$HERE/local-cluster.sh" start "$DIR"
echo "with-topology: topology up in $(cat "$DIR/startup-seconds") s at $DIR" >&2
status=0
HANGAR_TEST_CLUSTER_DIR=$DIR "$@" || status=$?
exit "$status"
