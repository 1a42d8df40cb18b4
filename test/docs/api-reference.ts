/**
 * The API reference (docs/api, made by `npm run docs:api` from the TSDoc in lib/) cannot rot:
 * TypeDoc runs here with the project's typedoc.json into a temporary directory, and any warning
 * fails (a broken {@link}, a type the public API uses but the package does not export, an export
 * without TSDoc). docs/api itself is generated, not committed: `npm run docs:api` builds it.
 */
import t from 'tap';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));
const pages = (dir: string): string[] =>
  fs
    .readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.html'))
    .sort();

t.test('typedoc: no warnings, and a page for the package and every class', async (t) => {
  const out = t.testdir();
  const r = spawnSync(process.execPath, [path.join(root, 'node_modules/typedoc/bin/typedoc'), '--out', out], {
    cwd: root,
    encoding: 'utf8',
    timeout: 120_000,
  });
  const output = `${r.stdout}${r.stderr}`;
  t.equal(r.status, 0, 'typedoc exits 0', { output });
  t.notMatch(output, /\[(warning|error)\]/, 'no warnings or errors');
  const made = pages(out);
  t.ok(made.includes('index.html'), 'an index page');
  for (const cls of ['DirectorySnapshotStore', 'Compressor', 'EntryDecoder', 'ResumableFileSink']) {
    t.ok(made.includes(`classes/${cls}.html`), `a page for ${cls}`);
  }
});
