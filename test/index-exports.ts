/**
 * The package entry publishes what the docs describe and nothing internal: its run-time exports
 * are exactly the list below (a new export is added here on purpose, never by an `export *`), and
 * every export, types included, is documented in TSDoc and not marked `@internal`.
 */
import t from 'tap';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import * as api from '../lib/index.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** The public run-time API, sorted. */
const PUBLIC = [
  'AuthError', 'BusyError', 'CHUNK_DATA', 'CHUNK_END', 'CHUNK_HEADER_SIZE', 'CRC_TRAILER_SIZE', 'CancelledError',
  'CheckpointScheduler', 'ChecksumError', 'ChunkedReceiver', 'Chunker', 'CodecError', 'Compressor', 'CrcFooter',
  'CrcVerifier', 'DEFAULT_PART_SIZE', 'DIRECTORY_PART_SIZE', 'Dechunker', 'Decompressor', 'EntryDecoder', 'EntryEncoder',
  'EntrySource', 'ErrorCodes', 'FORMAT_VERSION', 'FRAME_DIGEST_BYTES', 'HEADER_FLAG_DIGESTS', 'contentBlockLimits', 'frameDigest', 'FormatError', 'InvalidArgumentError', 'InvalidEntryError', 'IoError',
  'LimitError', 'LockedError', 'MAX_CHUNK_SIZE', 'MAX_TRAILER_SIZE', 'MIN_CHUNK_SIZE', 'NetworkError', 'NoSpaceError',
  'NotFoundError', 'ProtocolError', 'RefusedError', 'ResumableFileSink', 'S3Sink', 'S3SnapshotStore', 'S3Source',
  'S3_MAX_PARTS', 'S3_MIN_PART_SIZE', 'SnapshotFramer', 'SnapshotParser', 'SnapshotServer', 'DirectorySnapshotStore',
  'SnapstreamError', 'SourceChangedError', 'TailCrc', 'TimeoutError', 'TruncatedError', 'UnsupportedError',
  'abortS3Upload', 'analyzePartial', 'checkSnapshotId', 'cleanPartials', 'compressFile', 'crc32', 'crc32Implementation',
  'crcTrailer', 'createChunkedReceiver', 'createChunker', 'createCompressor', 'createCrcFooter', 'createCrcVerifier',
  'createDechunker', 'createDecompressor', 'createEntryDecoder', 'createEntryEncoder', 'createResumableFileSink',
  'createS3Client', 'createS3Sink', 'createS3Source', 'createSnapshotFramer', 'createSnapshotParser',
  'createSnapshotServer', 'directoryApplier', 'directorySource', 'inspectSnapshot', 'isCorruptionError', 'levelApplier',
  'levelSource', 'linkDirectory', 'mapApplier', 'mapSource', 'partialPathFor', 'readSnapshot', 'recoverDirectory',
  'recoverLevel', 's3ConnectionFromEnv', 'sampleEntries', 'sendSnapshot', 'snapshotIdProblem', 'snapshotsToPrune',
  'uploadStateKey', 'verifySnapshot', 'writeSnapshot',
];

t.test('the run-time exports are exactly the public list', async (t) => {
  const actual = Object.keys(api).sort();
  t.same(
    actual.filter((n) => !PUBLIC.includes(n)),
    [],
    'nothing beyond the list (an internal helper such as wrapIoError must not be reachable)',
  );
  t.same(
    PUBLIC.filter((n) => !actual.includes(n)),
    [],
    'nothing on the list missing',
  );
  t.notOk('wrapIoError' in api, 'wrapIoError is internal');
  t.notOk('errorForCode' in api, 'errorForCode is internal');
});

t.test('every export, types included, has TSDoc and none is @internal', async (t) => {
  const program = ts.createProgram([path.join(root, 'lib/index.ts')], {
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    target: ts.ScriptTarget.ES2022,
    noResolve: false,
    skipLibCheck: true,
    types: [],
  });
  const checker = program.getTypeChecker();
  const entry = program.getSourceFile(path.join(root, 'lib/index.ts'))!;
  const exports = checker.getExportsOfModule(checker.getSymbolAtLocation(entry)!);
  t.ok(exports.length > PUBLIC.length, `${exports.length} exports, types included`);
  const undocumented: string[] = [];
  const internal: string[] = [];
  for (const sym of exports) {
    const target = sym.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(sym) : sym;
    const decls = target.getDeclarations() ?? [];
    const tags = decls.flatMap((d) => ts.getJSDocTags(d));
    const docs = decls.some((d) => ts.getJSDocCommentsAndTags(d).length > 0) || target.getDocumentationComment(checker).length > 0;
    if (!docs) undocumented.push(sym.name);
    if (tags.some((tag) => tag.tagName.text === 'internal')) internal.push(sym.name);
  }
  t.same(undocumented, [], 'exports without TSDoc');
  t.same(internal, [], 'exports marked @internal');
});

t.test('the error classes keep their names, codes and instanceof', async (t) => {
  for (const [key, code] of Object.entries(api.ErrorCodes)) {
    const name = `${key.toLowerCase().replace(/(^|_)([a-z])/g, (_, _u, c: string) => c.toUpperCase())}Error`;
    const cls = (api as unknown as Record<string, new (m?: string) => api.SnapstreamError>)[name];
    if (!cls) {
      t.fail(`no class ${name} for ${code}`);
      continue;
    }
    const err = new cls('boom');
    t.equal(err.code, code, `${name}.code`);
    t.equal(err.name, name, `${name}.name`);
    t.equal(cls.name, name, `${name} class name`);
    t.ok(err instanceof api.SnapstreamError && err instanceof Error && err instanceof cls, `${name} instanceof`);
    t.match(String(err.stack), new RegExp(`^${name}: boom`), `${name} stack`);
    t.equal(new cls().message.length > 0, true, `${name} has a default message`);
  }
  const cause = new Error('native');
  const codec = new api.CodecError('x', { environment: true, cause, offset: 4 });
  t.equal(codec.environment, true);
  t.equal(codec.cause, cause);
  t.equal(codec.offset, 4);
  t.notOk(new api.ChecksumError('x') instanceof api.FormatError, 'classes are distinct');
  t.ok(api.isCorruptionError(new api.ChecksumError('x')));
  t.ok(api.isCorruptionError(new api.LimitError('x')));
  t.notOk(api.isCorruptionError(codec));
  t.notOk(api.isCorruptionError(new api.IoError('x')));
});
