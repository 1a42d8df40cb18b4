#!/bin/bash
# Stops the Ceph that start.sh started: rgw, osd, mon (in that order) by their pid files, waiting for each.
D=${CEPH_DIR:-${TMPDIR:-/tmp}/snapstream-ceph}
for n in client.rgw.a osd.0 mon.a; do
  f=$D/run/$n.pid; [ -f $f ] || continue; p=$(cat $f)
  kill -TERM $p 2>/dev/null || continue
  for i in $(seq 1 100); do kill -0 $p 2>/dev/null || break; sleep 0.1; done
  kill -0 $p 2>/dev/null && { echo "$n ($p) did not stop, KILL"; kill -KILL $p; }
done
exit 0
