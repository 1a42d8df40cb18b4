/**
 * The layer rule of lib/: a lower layer never imports a higher one. Every import of every
 * lib/**\/*.ts (static, type-only, re-export and dynamic, as TypeScript's own pre-processor finds
 * them) is checked against the order below, and the README's layout paragraph must list the
 * folders in this same order.
 *
 * errors.ts is the floor (everything may raise a SnapstreamError; it imports nothing of ours);
 * sample/ (the demo and benchmark data set) sits just under cli/, which is its only user inside lib/;
 * index.ts is the roof (the package root re-exports every layer, and nothing in lib/ imports it).
 */
import t from 'tap';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const lib = path.join(root, 'lib');

/** The layers, lowest first; a file may import its own layer and any lower one. */
export const LAYERS = [
  'errors.ts',
  'format/',
  'codec/',
  'streams/',
  'sink/',
  'snapshot/',
  'transfer/',
  'store/',
  'adapters/',
  's3/',
  'sample/',
  'cli/',
  'index.ts',
] as const;

/** The layer of a path relative to lib/ ('format/binary.ts' → 'format/'), or undefined. */
function layerOf(rel: string): string | undefined {
  const first = rel.split('/')[0]!;
  const name = rel.includes('/') ? `${first}/` : first.replace(/\.js$/, '.ts'); // imports name the built .js
  return (LAYERS as readonly string[]).includes(name) ? name : undefined;
}

/** What is wrong with the imports of one file (`rel`, relative to lib/), given its source text. */
export function layerViolations(rel: string, source: string): string[] {
  const from = layerOf(rel);
  if (from === undefined) return [`${rel}: not in any layer (place its folder in LAYERS and in the README)`];
  const problems: string[] = [];
  for (const { fileName } of ts.preProcessFile(source, true, true).importedFiles) {
    if (!fileName.startsWith('.')) continue; // a package (node:fs, zstd-napi, …)
    const target = path.posix.normalize(path.posix.join(path.posix.dirname(rel), fileName));
    if (target.startsWith('../')) {
      problems.push(`${rel} imports ${fileName}, outside lib/`);
      continue;
    }
    const to = layerOf(target);
    if (to === undefined) problems.push(`${rel} imports ${target}, which is in no layer`);
    else if (LAYERS.indexOf(to as never) > LAYERS.indexOf(from as never)) {
      problems.push(`${rel} (${from}) imports ${target} (${to}), a higher layer`);
    }
  }
  return problems;
}

function libFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((d) => {
    const full = path.join(dir, d.name);
    if (d.isDirectory()) return libFiles(full);
    return d.name.endsWith('.ts') ? [full] : [];
  });
}

t.test('the checker finds what it must', async (t) => {
  t.same(layerViolations('format/x.ts', "import { y } from '../codec/codec.js';"), [
    'format/x.ts (format/) imports codec/codec.js (codec/), a higher layer',
  ]);
  t.same(layerViolations('store/x.ts', "import type {\n  SnapshotSource,\n} from '../adapters/types.js';"), [
    'store/x.ts (store/) imports adapters/types.js (adapters/), a higher layer',
  ]);
  t.equal(layerViolations('format/x.ts', "export * from '../index.js';").length, 1, 're-exports count');
  t.equal(layerViolations('codec/x.ts', "const m = await import('../streams/a.js');").length, 1, 'dynamic imports count');
  t.equal(layerViolations('errors.ts', "import { x } from './format/a.js';").length, 1, 'errors.ts is the floor');
  t.equal(layerViolations('newarea/x.ts', '').length, 1, 'a folder in no layer');
  t.equal(layerViolations('cli/x.ts', "import '../../test/x.js';").length, 1, 'nothing outside lib/');
  t.same(
    layerViolations('s3/x.ts', "import { a } from './b.js';\nimport { c } from '../store/d.js';\nimport fs from 'node:fs';\nimport { e } from '../errors.js';"),
    [],
    'same layer, lower layers, packages and errors.ts are fine',
  );
});

t.test('no file in lib/ imports a higher layer', async (t) => {
  const files = libFiles(lib);
  t.ok(files.length > 50, `${files.length} files checked`);
  const problems = files.flatMap((f) => layerViolations(path.relative(lib, f).split(path.sep).join('/'), fs.readFileSync(f, 'utf8')));
  t.same(problems, [], 'layer violations');
  const used = new Set(files.map((f) => layerOf(path.relative(lib, f).split(path.sep).join('/'))));
  t.same(LAYERS.filter((l) => !used.has(l)), [], 'every layer exists');
});

t.test("the README's layout lists the layers in this order", async (t) => {
  const readme = fs.readFileSync(path.join(root, 'README.md'), 'utf8');
  const layout = /Layout: `lib\/` by area([\s\S]*?)`test\/` mirrors/.exec(readme);
  if (!layout) return t.fail('no "Layout: `lib/` by area … `test/` mirrors" paragraph in README.md');
  const named = [...layout[1]!.matchAll(/`([a-z0-9-]+(?:\/|\.ts))`/g)].map((m) => m[1]);
  t.same(named, [...LAYERS], 'README layers, lowest first');
});
