# shellcheck shell=bash
# Ceph: one monitor (mon.a on 127.0.0.1:16789 plus the port offset; 6789 belongs to the main suite's
# Ceph peer), one
# manager (it reports placement-group states and health), and one memstore OSD per node: node N runs
# osd.(N-1). Everything lives in DIR/ceph; clients read DIR/ceph.conf, whose keyring line finds the
# admin key at DIR/ceph/keyring.client.admin.

CEPH_MON_PORT=$(port 16789)
CEPH_POOL=hangar.blocks
CEPH_POOL_PGS=16
CEPH_OSDS_UP_TIMEOUT_S=${CEPH_OSDS_UP_TIMEOUT_S:-120}
CEPH_HEALTH_OK_TIMEOUT_S=${CEPH_HEALTH_OK_TIMEOUT_S:-240}
# Each memstore OSD's capacity (start only), held in memory as it fills: a benchmark writing 64 MiB
# objects at full speed needs more than the tests' 1 GiB.
CEPH_MEMSTORE_BYTES=${HANGAR_CLUSTER_MEMSTORE_BYTES:-1073741824}

osd_id_of_node() { echo $(($1 - 1)); }
cephc() { ceph -c "$DIR/ceph.conf" --connect-timeout 10 "$@"; }

# The failure-detection settings are short so that a killed OSD is marked down in seconds; the
# memstore OSDs keep their data in memory, which suits kill tests (a restarted OSD backfills).
ceph_configure() {
  local c=$DIR/ceph
  mkdir -p "$c/mon" "$c/mgr" "$c/run"
  cat >"$DIR/ceph.conf" <<CONF
[global]
fsid = $(cat /proc/sys/kernel/random/uuid)
mon host = 127.0.0.1:$CEPH_MON_PORT
mon initial members = a
public addr = 127.0.0.1
cluster addr = 127.0.0.1
auth cluster required = cephx
auth service required = cephx
auth client required = cephx
auth allow insecure global id reclaim = false
keyring = $c/keyring.\$name
run dir = $c/run
log file = $DIR/logs/\$name.log
admin socket = $c/run/\$name.asok
mon data = $c/mon
mgr data = $c/mgr
mgr initial modules = iostat
mon data avail warn = 1
mon osd down out interval = 60
osd pool default size = 3
osd pool default min size = 2
osd pool default pg autoscale mode = off
osd crush chooseleaf type = 0
osd heartbeat interval = 1
osd heartbeat grace = 6
osd objectstore = memstore
memstore device bytes = $CEPH_MEMSTORE_BYTES
osd data = $c/osd\$id
osd op num shards = 1
osd op num threads per shard = 2
CONF
}

ceph_bootstrap_mon() {
  local c=$DIR/ceph
  ceph-authtool --create-keyring "$c/mon.keyring" --gen-key -n mon. --cap mon 'allow *' >/dev/null
  ceph-authtool --create-keyring "$c/keyring.client.admin" --gen-key -n client.admin \
    --cap mon 'allow *' --cap osd 'allow *' --cap mds 'allow *' --cap mgr 'allow *' >/dev/null
  ceph-authtool "$c/mon.keyring" --import-keyring "$c/keyring.client.admin" >/dev/null
  monmaptool --create --add a "127.0.0.1:$CEPH_MON_PORT" --fsid "$(awk '/^fsid/ {print $3}' "$DIR/ceph.conf")" \
    "$c/monmap" >/dev/null
  ceph-mon -c "$DIR/ceph.conf" --mkfs -i a --monmap "$c/monmap" --keyring "$c/mon.keyring"
  spawn mon.a ceph-mon -f -c "$DIR/ceph.conf" -i a
  wait_until 30 "ceph: monitor answers" "mon.a" cephc mon stat
}

ceph_bootstrap_mgr() {
  cephc auth get-or-create mgr.x mon 'allow profile mgr' osd 'allow *' mds 'allow *' \
    -o "$DIR/ceph/keyring.mgr.x" >/dev/null
  chmod 600 "$DIR/ceph/keyring.mgr.x"
  ceph_start_mgr
}
ceph_start_mgr() { spawn mgr.x ceph-mgr -f -c "$DIR/ceph.conf" -i x; }

# ceph_create_osd N: make node N's OSD (id N-1) known to the monitor, format its store, start it.
ceph_create_osd() {
  local id; id=$(osd_id_of_node "$1")
  local got; got=$(cephc osd create)
  [ "$got" = "$id" ] || die "ceph osd create gave id $got, expected $id"
  mkdir -p "$DIR/ceph/osd$id"
  ceph-osd -c "$DIR/ceph.conf" -i "$id" --mkfs --mkkey --no-mon-config >>"$(logfile_of "osd.$id")" 2>&1 ||
    { tail -n 20 "$(logfile_of "osd.$id")" >&2; die "mkfs of osd.$id failed"; }
  cephc auth add "osd.$id" osd 'allow *' mon 'allow profile osd' mgr 'allow profile osd' \
    -i "$DIR/ceph/keyring.osd.$id" >/dev/null 2>&1
  cephc osd crush add "osd.$id" 1.0 host=localhost root=default >/dev/null 2>&1
  ceph_start_osd "$1"
}

ceph_start_osd() { local id; id=$(osd_id_of_node "$1"); spawn "osd.$id" ceph-osd -f -c "$DIR/ceph.conf" -i "$id"; }
ceph_kill_osd() { kill_hard "osd.$(osd_id_of_node "$1")"; }

ceph_osds_up() { [ "$(cephc osd stat -f json | jq .num_up_osds)" = "$1" ]; }
ceph_health_ok() { [ "$(cephc health)" = HEALTH_OK ]; }

ceph_create_pool() {
  cephc osd pool create "$CEPH_POOL" "$CEPH_POOL_PGS" "$CEPH_POOL_PGS" replicated >/dev/null 2>&1
  cephc osd pool set "$CEPH_POOL" size 3 >/dev/null 2>&1
  cephc osd pool set "$CEPH_POOL" min_size 2 >/dev/null 2>&1
  cephc osd pool application enable "$CEPH_POOL" rados >/dev/null 2>&1
}

ceph_wait_osds_up() {
  wait_until "$CEPH_OSDS_UP_TIMEOUT_S" "ceph: $1 OSDs up" "mon.a osd.0 osd.1 osd.2" ceph_osds_up "$1" ||
    { cephc -s >&2 || true; return 1; }
}

ceph_wait_health_ok() {
  wait_until "$CEPH_HEALTH_OK_TIMEOUT_S" "ceph: HEALTH_OK" "mon.a mgr.x" ceph_health_ok ||
    { cephc health detail >&2 || true; return 1; }
}
