/**
 * The API reference (docs/api, made by `npm run docs:api` from the TSDoc in lib/) cannot rot:
 * TypeDoc runs here with the project's typedoc.json into a temporary directory, and any warning
 * fails (a broken {@link}, a type the public API uses but the package does not export), as does
 * a page the committed docs/api lacks or still has.
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

t.test('typedoc: no warnings, and docs/api has every page', async (t) => {
  const out = t.testdir();
  const r = spawnSync(process.execPath, [path.join(root, 'node_modules/typedoc/bin/typedoc'), '--out', out], {
    cwd: root,
    encoding: 'utf8',
    timeout: 120_000,
  });
  const output = `${r.stdout}${r.stderr}`;
  t.equal(r.status, 0, 'typedoc exits 0', { output });
  t.notMatch(output, /\[(warning|error)\]/, 'no warnings or errors');
  t.same(pages(path.join(root, 'docs/api')), pages(out), 'docs/api has the pages typedoc makes now (else: npm run docs:api)');
});
