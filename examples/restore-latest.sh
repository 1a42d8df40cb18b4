#!/usr/bin/env bash
# Keep snapshots of a directory in a store, damage the newest, and restore the latest valid one.
# Usage: examples/restore-latest.sh [WORKDIR]
set -euo pipefail
cli="$(cd "$(dirname "$0")/.." && pwd)/dist/cli/main.js"
snapstream() { node "$cli" "$@"; }
work=${1:-$(mktemp -d)}
mkdir -p "$work/app"
for n in 1 2 3; do
  printf 'version %d\n' "$n" > "$work/app/state.txt"
  printf '{"key":"state","value":"version %d"}\n' "$n" | snapstream pack "$work/tmp-$n.snap" --meta "{\"index\":$n}" --quiet
  mkdir -p "$work/store"
  mv "$work/tmp-$n.snap" "$work/store/snap-$n.snap"
  sleep 0.01
done
snapstream store ls --dir "$work/store"

# Flip a byte in the middle of the newest snapshot.
newest="$work/store/snap-3.snap"
size=$(stat -c %s "$newest")
printf '\xff' | dd of="$newest" bs=1 seek=$((size / 2)) conv=notrunc status=none
snapstream store verify --dir "$work/store" || echo "verify found damage (exit $?)"
snapstream store restore --dir "$work/store" --to-jsonl "$work/restored.jsonl"
jq -r .value "$work/restored.jsonl"
ls "$work/store/corrupt" > /dev/null && echo "the damaged snapshot was moved aside"
