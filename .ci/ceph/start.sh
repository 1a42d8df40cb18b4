#!/bin/bash
# Minimal single-node Ceph (1 mon, 1 bluestore OSD on a sparse file, 1 radosgw) for the S3 tests,
# on loopback. Installs Debian's radosgw, ceph-mon and ceph-osd first when missing (as root).
# Environment: CEPH_DIR (state, default $TMPDIR/snapstream-ceph), RGW_PORT (7480), MON_PORT (6789).
set -euo pipefail
if ! command -v radosgw >/dev/null || ! command -v ceph-mon >/dev/null || ! command -v ceph-osd >/dev/null; then
  [ "$(id -u)" = 0 ] || { echo "radosgw, ceph-mon and ceph-osd are missing; run as root to install them" >&2; exit 1; }
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq radosgw ceph-mon ceph-osd curl >/dev/null
fi
command -v curl >/dev/null || { apt-get install -y -qq curl >/dev/null; }
trap 'echo "ceph start failed, stopping" >&2; "$(dirname "$0")"/stop.sh; exit 1' ERR
D=${CEPH_DIR:-${TMPDIR:-/tmp}/snapstream-ceph}
PORT=${RGW_PORT:-7480}
MONPORT=${MON_PORT:-6789}
rm -rf "$D"; mkdir -p "$D"/{run,log,mon/a,osd/0,rgw}
FSID=$(cat /proc/sys/kernel/random/uuid)
CONF=$D/ceph.conf
cat > $CONF <<C
[global]
fsid = $FSID
mon host = v1:127.0.0.1:$MONPORT
public network = 127.0.0.0/8
auth cluster required = none
auth service required = none
auth client required = none
auth allow insecure global id reclaim = true
ms bind ipv4 = true
ms bind ipv6 = false
ms bind msgr2 = false
run dir = $D/run
admin socket = $D/run/\$name.asok
pid file = $D/run/\$name.pid
log file = $D/log/\$name.log
keyring = $D/keyring
osd pool default size = 1
osd pool default min size = 1
mon allow pool size one = true
mon warn on pool no redundancy = false
osd pool default pg num = 8
osd pool default pgp num = 8
osd pool default pg autoscale mode = off
mon max pg per osd = 1000
osd crush chooseleaf type = 0
mon data = $D/mon/\$cluster-\$id
osd data = $D/osd/\$id
osd objectstore = bluestore
bluestore block create = true
bluestore block size = 21474836480
bluestore fsck on mount = false
osd memory target = 1073741824
bluestore cache autotune = false
bluestore cache size = 268435456
osd op num shards = 1
# the OSD's own crush/class update at boot races with its first monmap ("wrong fsid") -> do it from the script
osd crush update on start = false
osd class update on start = false
osd op num threads per shard = 2
[mon.a]
mon addr = 127.0.0.1:$MONPORT
[client.rgw.a]
rgw frontends = beast endpoint=127.0.0.1:$PORT
rgw data = $D/rgw
rgw dns name = localhost
rgw enable usage log = false
# Deleted objects' space back within seconds, not hours: tests and benchmarks rewrite GBs.
rgw gc obj min wait = 5
rgw gc processor period = 10
rgw gc processor max time = 10
C
t0=$(date +%s%N)
monmaptool --create --clobber --addv a "[v1:127.0.0.1:$MONPORT]" --fsid $FSID $D/monmap >/dev/null
ceph-mon -c $CONF --mkfs -i a --monmap $D/monmap
ceph-mon -c $CONF -i a
C="ceph -c $CONF"
$C osd set-require-min-compat-client luminous >/dev/null 2>&1 || true
OSDUUID=$(cat /proc/sys/kernel/random/uuid)
ID=$($C osd new $OSDUUID)
ceph-osd -c $CONF -i $ID --mkfs --osd-uuid $OSDUUID >/dev/null 2>&1
$C osd crush add osd.$ID 1.0 root=default host=localhost >/dev/null 2>&1
ceph-osd -c $CONF -i $ID
radosgw -c $CONF -n client.rgw.a
radosgw-admin -c $CONF user create --uid=test --display-name=test --access-key=test --secret-key=testtesttest >/dev/null
# wait until S3 endpoint answers
for i in $(seq 1 120); do curl -s -o /dev/null http://127.0.0.1:$PORT/ && break; sleep 0.5; done
t1=$(date +%s%N)
echo "ceph+rgw up on http://127.0.0.1:$PORT in $(( (t1 - t0) / 1000000 )) ms (access key test / secret testtesttest)"
