#!/usr/bin/env bash
# Keep snapshots in S3-compatible object storage: upload, list, download the latest (checked by
# stock zstd), restore the newest that verifies after the newest is damaged, prune.
# Usage: examples/s3-backup.sh BUCKET [WORKDIR]
# The endpoint and keys come from the standard AWS variables (AWS_ENDPOINT_URL,
# AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY); `npm run test:s3` runs this against a local Ceph.
set -euo pipefail
cli="$(cd "$(dirname "$0")/.." && pwd)/dist/cli/main.js"
snapstream() { node "$cli" "$@"; }
bucket=${1:?usage: s3-backup.sh BUCKET [WORKDIR]}
work=${2:-$(mktemp -d)}
export AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED=${AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED:-true}  # a Node 20 notice, not ours to act on
s3() { snapstream s3 "$@" --bucket "$bucket" --prefix cache-1; }

# Two snapshots of a cache, index 10 and 20.
for index in 10 20; do
  for i in $(seq 1 500); do printf '{"key":"user:%d","value":"v%d of user %d"}\n' "$i" "$index" "$i"; done > "$work/$index.jsonl"
  snapstream pack "$work/snap-$index.snap" --meta "{\"index\":$index}" --quiet < "$work/$index.jsonl"
  s3 put "$work/snap-$index.snap"
done
s3 ls

# The latest, downloaded and checked by stock zstd.
s3 get latest "$work/latest.snap"
zstd -t -q "$work/latest.snap" && echo "zstd -t: the downloaded snapshot is a valid .zst file"

# Damage the newest in the bucket (as bit rot or a bad copy would) by uploading a flipped copy
# under its name, bypassing the checks: restore falls back to the one before.
cp "$work/snap-20.snap" "$work/bad.snap"
printf '\xff' | dd of="$work/bad.snap" bs=1 seek=$(( $(wc -c < "$work/bad.snap") / 2 )) conv=notrunc status=none
node -e '
  const { createS3Client } = await import(process.argv[1]);
  const { PutObjectCommand } = await import("@aws-sdk/client-s3");
  const fs = await import("node:fs");
  await createS3Client().send(new PutObjectCommand({ Bucket: process.argv[2], Key: "cache-1/snap-20.snap", Body: fs.readFileSync(process.argv[3]) }));
' --input-type=module "$(dirname "$cli")/../index.js" "$bucket" "$work/bad.snap"
s3 restore --to-jsonl "$work/restored.jsonl"
echo "user:7 is $(jq -r 'select(.key=="user:7").value' "$work/restored.jsonl")"

# The good snapshot uploaded again; retention keeps only the newest.
s3 put "$work/snap-20.snap"
s3 prune --max-snapshots 1
s3 ls
