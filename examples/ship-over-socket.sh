#!/usr/bin/env bash
# Ship a snapshot to a receiver over TCP two ways: the snapstream protocol (HMAC auth, resume),
# and plain chunk frames through socat.
# Usage: examples/ship-over-socket.sh [WORKDIR]
set -euo pipefail
cli="$(cd "$(dirname "$0")/.." && pwd)/dist/cli/main.js"
snapstream() { node "$cli" "$@"; }
work=${1:-$(mktemp -d)}
head -c 20000000 /dev/urandom > "$work/snapshot.bin"

# 1. The protocol: a server with a shared secret (from a file, never the command line).
head -c 32 /dev/urandom | base64 > "$work/secret"
port=$((20000 + RANDOM % 20000))
node "$cli" serve --dir "$work/received" --listen "127.0.0.1:$port" --secret-file "$work/secret" --quiet &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
# Wait until it listens (or has died): however long a loaded machine takes to start node.
until (echo > "/dev/tcp/127.0.0.1/$port") 2>/dev/null; do kill -0 $server; sleep 0.1; done
snapstream send "$work/snapshot.bin" --to "127.0.0.1:$port" --id snap-1 --secret-file "$work/secret" --quiet
cmp "$work/snapshot.bin" "$work/received/snap-1" && echo "protocol: received file is identical"

# 2. One way, through socat: chunk frames on the wire, checked and installed on arrival.
port2=$((port + 1))
socat -u "TCP-LISTEN:$port2,reuseaddr" - | node "$cli" receive "$work/via-socat.bin" --quiet &
receiver=$!
# socat listens for one connection only, so no probe: the sending socat retries its connect
# until the listener is up (for up to a minute).
snapstream chunk < "$work/snapshot.bin" | socat -u - "TCP:127.0.0.1:$port2,retry=600,interval=0.1"
wait $receiver
cmp "$work/snapshot.bin" "$work/via-socat.bin" && echo "socat: received file is identical"
