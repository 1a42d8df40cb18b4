#!/usr/bin/env bash
# Back up entries to a snapshot file, check it with snapstream and with stock zstd, read it back.
# Usage: examples/backup-to-file.sh [WORKDIR]
set -euo pipefail
cli="$(cd "$(dirname "$0")/.." && pwd)/dist/cli/main.js"
snapstream() { node "$cli" "$@"; }
work=${1:-$(mktemp -d)}

# Some entries as JSON Lines (one with bytes that are not text, one already expired).
{
  for i in $(seq 1 1000); do printf '{"key":"user:%d","value":"profile of user %d"}\n' "$i" "$i"; done
  printf '{"key":"blob","value":{"base64":"AAECAwQF"}}\n'
  printf '{"key":"session:old","value":"gone","expiresAt":1000}\n'
} > "$work/entries.jsonl"

snapstream pack "$work/backup.snap" --meta '{"index":1001,"term":3}' --quiet < "$work/entries.jsonl"
snapstream inspect "$work/backup.snap" --verify
zstd -t -q "$work/backup.snap" && echo "zstd -t: the snapshot is a valid .zst file"

# Restore, skipping what has expired, and look at it with jq.
snapstream unpack "$work/backup.snap" --skip-expired > "$work/restored.jsonl"
echo "restored $(wc -l < "$work/restored.jsonl") entries; user:42 is $(jq -r 'select(.key=="user:42").value' "$work/restored.jsonl")"
jq -e 'select(.key=="blob").value.base64 == "AAECAwQF"' "$work/restored.jsonl" > /dev/null && echo "bytes came back as bytes"
