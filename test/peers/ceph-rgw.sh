#!/usr/bin/env bash
# Copied from the project's shared peer scripts (/work/shared/peers/ceph-rgw.sh), with the
# monitor's port made a parameter (MON_PORT) so that two clusters on one machine do not collide.
# A single-node Ceph cluster (1 mon, 1 memstore OSD) with radosgw on 127.0.0.1:$PORT, from Debian packages.
# usage: ceph-rgw.sh start|stop   (needs: apt-get install ceph-mon ceph-osd radosgw ceph-common)
# Creates three users (main, alt, tenant) with the keys below. Data lives in $D (memory-backed OSD).
set -euo pipefail
D=${CEPH_DIR:-/tmp/ceph-peer}; PORT=${PORT:-9210}; FSID=${FSID:-6c0f5a3e-0000-4000-8000-000000000001}
MON_PORT=${MON_PORT:-6789}
C=$D/ceph.conf
ours() {  # the pid in pid file $1, if that process is still one of our Ceph daemons: a pid the
  # kernel has since handed to another process (pid_max wraps quickly under load) is left alone
  local pid; pid=$(cat "$1" 2>/dev/null) || return 1
  [ -n "$pid" ] && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q -e "$C" -e "$D" && echo "$pid"
}
stop() {  # the daemons we started, by their pid files
  for p in $D/*.pid; do pid=$(ours "$p") && kill "$pid" 2>/dev/null || true; done; sleep 3
  for p in $D/*.pid; do pid=$(ours "$p") && kill -9 "$pid" 2>/dev/null || true; rm -f "$p"; done
}
if [ "${1:-start}" = stop ]; then stop; exit 0; fi
stop 2>/dev/null || true; rm -rf "$D"; mkdir -p $D/mon $D/osd0 $D/rgw $D/run
cat >$C <<CONF
[global]
fsid = $FSID
mon host = 127.0.0.1:$MON_PORT
mon initial members = a
auth cluster required = cephx
auth service required = cephx
auth client required = cephx
keyring = $D/keyring.\$name
osd pool default size = 1
osd pool default min size = 1
mon allow pool size one = true
mon warn on pool no redundancy = false
osd objectstore = memstore
memstore device bytes = 4294967296
osd data = $D/osd\$id
run dir = $D/run
log file = $D/\$name.log
pid file = $D/\$name.pid
admin socket = $D/run/\$name.asok
osd crush chooseleaf type = 0
mon data = $D/mon
rgw frontends = beast endpoint=127.0.0.1:$PORT
rgw data = $D/rgw
rgw dns name = localhost
rgw enforce swift acls = false
rgw lc debug interval = 10
CONF
ceph-authtool --create-keyring $D/mon.keyring --gen-key -n mon. --cap mon 'allow *' >/dev/null
ceph-authtool --create-keyring $D/keyring.client.admin --gen-key -n client.admin --cap mon 'allow *' --cap osd 'allow *' --cap mds 'allow *' --cap mgr 'allow *' >/dev/null
ceph-authtool $D/mon.keyring --import-keyring $D/keyring.client.admin >/dev/null
monmaptool --create --add a 127.0.0.1:$MON_PORT --fsid $FSID $D/monmap >/dev/null
ceph-mon -c $C --mkfs -i a --monmap $D/monmap --keyring $D/mon.keyring
ceph-mon -c $C -i a
sleep 2
ceph -c $C osd create >/dev/null
ceph-osd -c $C -i 0 --mkfs --mkkey --no-mon-config >/dev/null 2>&1
ceph -c $C auth add osd.0 osd 'allow *' mon 'allow profile osd' mgr 'allow profile osd' -i $D/keyring.osd.0 >/dev/null
ceph -c $C osd crush add osd.0 1.0 host=localhost root=default >/dev/null 2>&1 || true
ceph-osd -c $C -i 0
ceph -c $C auth get-or-create client.rgw.a mon 'allow rw' osd 'allow rwx' -o $D/keyring.client.rgw.a >/dev/null
for i in $(seq 1 30); do ceph -c $C osd stat 2>/dev/null | grep -q "1 up" && break; sleep 1; done
radosgw -c $C -n client.rgw.a
for i in $(seq 1 60); do curl -s -o /dev/null 127.0.0.1:$PORT && break; sleep 1; done
mk() { radosgw-admin -c $C user create --uid "$1" --display-name "$1" --email "$1@example.com" --access-key "$2" --secret-key "$3" >/dev/null; }
mk main MAINACCESSKEY0000001 mainsecretkey000000000000000000000000001
mk alt ALTACCESSKEY00000002 altsecretkey0000000000000000000000000002
radosgw-admin -c $C user create --tenant tenant --uid tenant --display-name tenant --email tenant@example.com --access-key TENANTACCESSKEY00003 --secret-key tenantsecretkey0000000000000000000000003 >/dev/null
echo "ceph radosgw on http://127.0.0.1:$PORT"
