#!/bin/bash
# Runs a command with an S3 endpoint: the one in $SNAPSTREAM_S3_ENDPOINT if set, else a
# single-node Ceph started here (start.sh) and stopped when the command ends.
# The command sees SNAPSTREAM_S3_ENDPOINT, AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
export CEPH_DIR=${CEPH_DIR:-${TMPDIR:-/tmp}/snapstream-ceph}
export RGW_PORT=${RGW_PORT:-7480}
if [ -z "${SNAPSTREAM_S3_ENDPOINT:-}" ]; then
  if curl -s -o /dev/null "http://127.0.0.1:$RGW_PORT/"; then
    echo "using the S3 endpoint already on 127.0.0.1:$RGW_PORT"
  else
    bash "$here/start.sh" || exit 1
    trap 'bash "$here/stop.sh"' EXIT
  fi
  export SNAPSTREAM_S3_ENDPOINT=http://127.0.0.1:$RGW_PORT
  export AWS_ACCESS_KEY_ID=${AWS_ACCESS_KEY_ID:-test}
  export AWS_SECRET_ACCESS_KEY=${AWS_SECRET_ACCESS_KEY:-testtesttest}
fi
"$@"
