#!/usr/bin/env bash
# Stops what rgw-start.sh started, by the PIDs the daemons wrote (never by process name).
#   scripts/storage/rgw-stop.sh                 # radosgw, OSD and monitor
#   scripts/storage/rgw-stop.sh --gateway-only  # only radosgw (objects stay in the OSD)
BASE=${RGW_BASE:-/tmp/tsms-rgw}
names=(client.rgw.a osd.0 mon.a)
[ "${1:-}" = "--gateway-only" ] && names=(client.rgw.a)
pids=()
# Read every pid first: radosgw removes its pid file as it exits.
for n in "${names[@]}"; do
  f="$BASE/run/$n.pid"
  [ -s "$f" ] && pids+=("$(cat "$f")")
done
[ ${#pids[@]} -eq 0 ] && exit 0
kill "${pids[@]}" 2>/dev/null
for p in "${pids[@]}"; do
  for _ in $(seq 1 100); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
  kill -0 "$p" 2>/dev/null && kill -9 "$p" 2>/dev/null
done
exit 0
