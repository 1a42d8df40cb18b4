// A full disk: a small tmpfs (mounted here, as root) runs out mid-snapshot. The error is typed,
// no final file appears, files already there are untouched, and once space is freed the same
// call resumes the partial to the file an uninterrupted run writes.
import t from 'tap';
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ErrorCodes, NoSpaceError, sampleEntries, verifySnapshot, writeSnapshot } from '../../lib/index.js';
import { seededRandomBytes } from '../fixtures/random.js';

const randomBytes = seededRandomBytes(t, 0x11ab0c11);

const NOW = 1_800_000_000_000;
const opts = { codec: 'none' as const, createdAt: NOW, blockSize: 64 * 1024, syncEvery: 1024 * 1024 };
const source = (cursor: unknown) => sampleEntries({ count: 16_000, start: (cursor as number | undefined) ?? 0, now: NOW });

t.test('ENOSPC on a 6 MiB tmpfs', async (t) => {
  const mnt = fs.mkdtempSync(path.join(os.tmpdir(), 'snapstream-enospc-'));
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=6m', 'tmpfs', mnt]);
  t.teardown(() => {
    execFileSync('umount', [mnt]);
    fs.rmSync(mnt, { recursive: true, force: true });
  });

  // The uninterrupted file, written elsewhere, to compare with.
  const refDir = t.testdir();
  const reference = path.join(refDir, 'ref.snap');
  await writeSnapshot(source, reference, opts);
  const refBytes = fs.readFileSync(reference);
  t.ok(refBytes.length > 8 * 1024 * 1024, `the snapshot (${refBytes.length} B) is larger than the disk`);

  const other = path.join(mnt, 'other.snap');
  fs.writeFileSync(other, randomBytes(512 * 1024));
  const otherHash = crypto.createHash('sha256').update(fs.readFileSync(other)).digest('hex');

  const target = path.join(mnt, 'big.snap');
  const err = await writeSnapshot(source, target, opts).then(
    () => null,
    (e: unknown) => e,
  );
  t.type(err, NoSpaceError, 'a NoSpaceError');
  t.equal((err as NoSpaceError).code, ErrorCodes.NO_SPACE);
  t.equal(((err as Error).cause as NodeJS.ErrnoException).code, 'ENOSPC', 'the system error is the cause');
  t.notOk(fs.existsSync(target), 'no final file');
  t.ok(fs.existsSync(`${target}.partial`), 'the partial is kept');
  const partialSize = fs.statSync(`${target}.partial`).size;
  t.equal(crypto.createHash('sha256').update(fs.readFileSync(other)).digest('hex'), otherHash, 'the other file is intact');

  // Free space: grow the filesystem, then the same call resumes.
  execFileSync('mount', ['-o', 'remount,size=64m', mnt]);
  const summary = await writeSnapshot(source, target, opts);
  t.ok(summary.resumed, 'resumed');
  t.ok(summary.resumed!.bytes > 0 && summary.resumed!.bytes <= partialSize, `kept ${summary.resumed!.bytes} of ${partialSize} B`);
  t.ok(fs.readFileSync(target).equals(refBytes), 'the finished file equals the uninterrupted one');
  await verifySnapshot(target);
  t.notOk(fs.existsSync(`${target}.partial`), 'the partial is gone');
});
