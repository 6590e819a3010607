#!/usr/bin/env bash
# Starts a throw-away S3 server: Ceph RADOS Gateway on a single-node Ceph cluster (1 monitor, 1 OSD
# keeping objects in RAM, no authentication between daemons), all bound to 127.0.0.1.
#
#   RGW_BASE=/tmp/tsms-rgw RGW_PORT=7480 MON_PORT=6789 scripts/storage/rgw-start.sh
#   scripts/storage/rgw-start.sh --gateway-only   # restart only radosgw on a running cluster
#
# Prints `RGW ready on http://127.0.0.1:PORT` and leaves an S3 user with access key
# $RGW_ACCESS_KEY / secret $RGW_SECRET_KEY (defaults CIACCESSKEY / CISECRETKEY).
# Needs Debian's ceph-mon, ceph-osd and radosgw (scripts/storage/ci-setup.sh installs them).
set -euo pipefail
BASE=${RGW_BASE:-/tmp/tsms-rgw}
RGW_PORT=${RGW_PORT:-7480}
MON_PORT=${MON_PORT:-6789}
ACCESS_KEY=${RGW_ACCESS_KEY:-CIACCESSKEY}
SECRET_KEY=${RGW_SECRET_KEY:-CISECRETKEY}
export CEPH_CONF="$BASE/ceph.conf"

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

start_gateway() {
  if port_open "$RGW_PORT"; then echo "port $RGW_PORT is already in use" >&2; exit 1; fi
  radosgw --id rgw.a -c "$CEPH_CONF"
  for _ in $(seq 1 240); do
    if curl -s -o /dev/null "http://127.0.0.1:$RGW_PORT/"; then return 0; fi
    sleep 0.5
  done
  echo "radosgw did not answer on port $RGW_PORT; logs in $BASE/log" >&2
  tail -20 "$BASE/log/client.rgw.a.log" >&2 || true
  exit 1
}

if [ "${1:-}" = "--gateway-only" ]; then
  [ -f "$CEPH_CONF" ] || { echo "no cluster at $BASE" >&2; exit 1; }
  start_gateway
  echo "RGW ready on http://127.0.0.1:$RGW_PORT"
  exit 0
fi

for cmd in ceph-mon ceph-osd radosgw radosgw-admin monmaptool; do
  command -v "$cmd" >/dev/null || { echo "$cmd is not installed (run scripts/storage/ci-setup.sh)" >&2; exit 1; }
done
if port_open "$MON_PORT"; then echo "port $MON_PORT (ceph-mon) is already in use" >&2; exit 1; fi
rm -rf "$BASE"
mkdir -p "$BASE"/{mon,osd,rgw,log,run}
FSID=$(cat /proc/sys/kernel/random/uuid)

cat > "$CEPH_CONF" <<CONF
[global]
fsid = $FSID
mon host = v1:127.0.0.1:$MON_PORT
mon initial members = a
public network = 127.0.0.0/8
ms bind ipv6 = false
auth cluster required = none
auth service required = none
auth client required = none
auth allow insecure global id reclaim = true
mon warn on insecure global id reclaim allowed = false
osd pool default size = 1
osd pool default min size = 1
osd pool default pg autoscale mode = off
osd pool default pg num = 8
osd pool default pgp num = 8
osd crush chooseleaf type = 0
mon allow pool size one = true
mon warn on pool no redundancy = false
mon max pg per osd = 1000
mon data avail warn = 1
mon data avail crit = 0
run dir = $BASE/run
pid file = $BASE/run/\$name.pid
admin socket = $BASE/run/\$name.asok
log file = $BASE/log/\$name.log
[mon.a]
mon data = $BASE/mon
[osd.0]
osd data = $BASE/osd
osd objectstore = memstore
memstore device bytes = 1073741824
osd max object name len = 460
osd max object namespace len = 64
# Without cephx the OSD may send its start-up crush/class updates before it knows the cluster's
# fsid and then exits ("wrong fsid"); we place it in the crush map ourselves instead.
osd crush update on start = false
osd class update on start = false
[client.rgw.a]
rgw data = $BASE/rgw
rgw frontends = beast endpoint=127.0.0.1:$RGW_PORT tcp_nodelay=1
rgw dns name = localhost
rgw enable usage log = false
CONF

# Plain msgr v1: monmaptool would otherwise make any port but 6789 a v2 address, on which
# radosgw fails to authenticate when cephx is off.
monmaptool --create --clobber --addv a "[v1:127.0.0.1:$MON_PORT]" --fsid "$FSID" "$BASE/monmap" >/dev/null
ceph-mon --id a --mkfs --monmap "$BASE/monmap" -c "$CEPH_CONF"
ceph-mon --id a -c "$CEPH_CONF"

OSD_UUID=$(cat /proc/sys/kernel/random/uuid)
ceph -c "$CEPH_CONF" osd new "$OSD_UUID" >/dev/null
ceph-osd --id 0 --mkfs --osd-uuid "$OSD_UUID" -c "$CEPH_CONF" 2>"$BASE/log/osd-mkfs.err"
ceph -c "$CEPH_CONF" osd crush add osd.0 1.0 host=localhost root=default >/dev/null 2>&1 || true
ceph-osd --id 0 -c "$CEPH_CONF" 2>>"$BASE/log/osd-start.err"
osd_up=0
for _ in $(seq 1 120); do
  if ceph -c "$CEPH_CONF" osd stat 2>/dev/null | grep -q '1 up'; then osd_up=1; break; fi
  sleep 0.5
done
if [ "$osd_up" != 1 ]; then
  echo "the OSD did not come up; logs in $BASE/log" >&2
  tail -20 "$BASE/log/osd.0.log" >&2 || true
  exit 1
fi

# RGW creates its pools lazily otherwise, stalling its first requests for seconds each.
for pool in .rgw.root default.rgw.control default.rgw.meta default.rgw.log default.rgw.buckets.index default.rgw.buckets.data default.rgw.buckets.non-ec; do
  ceph -c "$CEPH_CONF" osd pool create "$pool" 8 8 >/dev/null 2>&1 || true
  ceph -c "$CEPH_CONF" osd pool application enable "$pool" rgw >/dev/null 2>&1 || true
done

start_gateway
radosgw-admin -c "$CEPH_CONF" user create --uid=tsms --display-name=tsms --access-key="$ACCESS_KEY" --secret="$SECRET_KEY" >/dev/null
echo "RGW ready on http://127.0.0.1:$RGW_PORT"
