#!/usr/bin/env bash
# An interrupted one-way transfer resumes: the receiver keeps what arrived (FILE.partial) and, when
# the sender starts again, skips what it already holds.
# Usage: examples/resume-transfer.sh [WORKDIR]
set -euo pipefail
cli="$(cd "$(dirname "$0")/.." && pwd)/dist/cli/main.js"
snapstream() { node "$cli" "$@"; }
work=${1:-$(mktemp -d)}
head -c 30000000 /dev/urandom > "$work/snapshot.bin"
snapstream chunk --chunk-size 4194304 < "$work/snapshot.bin" > "$work/frames"

# The connection drops after 13 MB: the receiver fails, but keeps the chunks that were whole.
if head -c 13000000 "$work/frames" | snapstream receive "$work/copy.bin" --quiet 2> "$work/err"; then
  echo "expected the cut transfer to fail" >&2; exit 1
fi
echo "cut short: $(cat "$work/err")"
echo "kept $(stat -c %s "$work/copy.bin.partial") bytes in copy.bin.partial"

# The sender starts again from the beginning; what is already there is not written twice.
snapstream receive "$work/copy.bin" < "$work/frames"
cmp "$work/snapshot.bin" "$work/copy.bin" && echo "resumed: identical"
