/**
 * snapstream: composable Node.js streams for state snapshots.
 * Every stage is a class plus a `createX(options)` factory; recipes compose them.
 */
export {
  ErrorCodes,
  type ErrorCode,
  type ErrorDetails,
  type SnapstreamErrorClass,
  type CodedError,
  SnapstreamError,
  ChecksumError,
  TruncatedError,
  FormatError,
  LimitError,
  CodecError,
  UnsupportedError,
  InvalidArgumentError,
  InvalidEntryError,
  NoSpaceError,
  IoError,
  AuthError,
  RefusedError,
  ProtocolError,
  TimeoutError,
  NetworkError,
  CancelledError,
  LockedError,
  NotFoundError,
  BusyError,
  SourceChangedError,
  isCorruptionError,
} from './errors.js';
export type { Entry, DecodedEntry, Bytes } from './format/entry.js';
export type { EntryColumns } from './format/entry-columns.js';
export type { RawBlock, CompressedBlock } from './format/block.js';
export { crc32, crc32Implementation } from './format/crc32.js';
export type { SnapshotHeader, BlockHeader, SnapshotFooter } from './format/snapshot-frames.js';
export { FORMAT_VERSION, HEADER_FLAG_DIGESTS } from './format/snapshot-frames.js';
export { frameDigest, FRAME_DIGEST_BYTES } from './format/frame-digest.js';
export { contentBlockLimits, type BlockBoundaries, type ContentBlockLimits } from './format/content-boundaries.js';
export type { CodecName } from './codec/codec.js';
export type { StageOptions, Progress } from './streams/stage-options.js';
export { EntryEncoder, createEntryEncoder, type EntryEncoderOptions } from './streams/entry-encoder.js';
export { EntryDecoder, createEntryDecoder, type EntryDecoderOptions } from './streams/entry-decoder.js';
export { Compressor, createCompressor, type CompressorOptions } from './streams/compressor.js';
export { Decompressor, createDecompressor, type DecompressorOptions, type FrameInput } from './streams/decompressor.js';
export { CrcFooter, createCrcFooter, crcTrailer, CRC_TRAILER_SIZE, type CrcFooterOptions } from './streams/crc-footer.js';
export { CrcVerifier, createCrcVerifier, type CrcVerifierOptions } from './streams/crc-verifier.js';
export {
  ResumableFileSink,
  createResumableFileSink,
  partialPathFor,
  type ResumableFileSinkOptions,
} from './sink/resumable-file-sink.js';
export { EntrySource, type EntryIterable, type EntrySourceOptions } from './snapshot/entry-source.js';
export { SnapshotFramer, createSnapshotFramer, type SnapshotFramerOptions, type FramerState } from './snapshot/snapshot-framer.js';
export { SnapshotParser, createSnapshotParser, type ParsedBlock, type SnapshotParserOptions } from './snapshot/snapshot-parser.js';
export { writeSnapshot, type WriteSnapshotOptions, type WriteSnapshotResult } from './snapshot/write-snapshot.js';
export { compressFile, type CompressFileOptions, type CompressFileResult } from './snapshot/compress-file.js';
export { readSnapshot, type ReadSnapshotOptions, type SnapshotEntryStream } from './snapshot/read-snapshot.js';
export { inspectSnapshot, verifySnapshot, type SnapshotInfo, type VerifyOptions, type VerifyResult } from './snapshot/inspect-snapshot.js';
export { sampleEntries, type SampleOptions } from './sample/sample-entries.js';
export { analyzePartial, type AnalyzePartialResult } from './snapshot/analyze-partial.js';
export type { EntrySourceFactory } from './snapshot/write-snapshot.js';
export type { PaceOptions } from './snapshot/pacer.js';
export { cleanPartials, type CleanupResult } from './snapshot/clean-partials.js';
export {
  CHUNK_DATA,
  CHUNK_END,
  CHUNK_HEADER_SIZE,
  MIN_CHUNK_SIZE,
  MAX_CHUNK_SIZE,
  type ChunkFrame,
} from './format/chunk-frame.js';
export { Chunker, createChunker, type ChunkerOptions } from './streams/chunker.js';
export { Dechunker, createDechunker, type DechunkerOptions } from './streams/dechunker.js';
export { ChunkedReceiver, createChunkedReceiver, type ChunkedReceiverOptions, type ChunkOutcome } from './sink/chunked-receiver.js';
export { sendSnapshot, type SendSnapshotOptions, type SendResult, type TransferProgress, type Connect } from './transfer/send-snapshot.js';
export { SnapshotServer, createSnapshotServer, type SnapshotServerOptions, type TransferInfo } from './transfer/snapshot-server.js';
export { snapshotIdProblem, checkSnapshotId } from './snapshot/snapshot-id.js';
export type { Secret } from './transfer/auth.js';
export type { SnapshotSource, SnapshotApplier } from './store/source-applier.js';
export { mapSource, mapApplier, type SnapshotMap, type MapEntryValue } from './adapters/map-adapter.js';
export type {
  SnapshotStore,
  StoredSnapshot,
  CreateOptions,
  OpenSnapshotOptions,
  RestoreOptions,
  RestoreResult,
  VerifyAllResult,
} from './store/snapshot-store-interface.js';
export { DirectorySnapshotStore, type DirectorySnapshotStoreOptions } from './store/directory-snapshot-store.js';
export { snapshotsToPrune, type RetentionPolicy, type RetainedSnapshot } from './store/retention.js';
export type { StoreProblem } from './store/store-problem.js';
export { CheckpointScheduler, type CheckpointSchedulerOptions } from './store/checkpoint-scheduler.js';
export { directorySource, directoryApplier, recoverDirectory, linkDirectory, DIRECTORY_PART_SIZE, type DirectorySourceOptions } from './adapters/directory-adapter.js';
export { levelSource, levelApplier, recoverLevel, type LevelLike, type LevelHandle, type LevelIterator } from './adapters/level-adapter.js';
export { createS3Client, s3ConnectionFromEnv, type S3ConnectionOptions } from './s3/s3-client.js';
export {
  S3Sink,
  createS3Sink,
  DEFAULT_PART_SIZE,
  S3_MIN_PART_SIZE,
  S3_MAX_PARTS,
  type S3SinkOptions,
  type S3UploadResult,
} from './s3/s3-sink.js';
export { S3Source, createS3Source, type S3SourceOptions } from './s3/s3-source.js';
export { abortS3Upload, uploadStateKey } from './s3/upload-state.js';
export { TailCrc, MAX_TRAILER_SIZE, type TrailerKind, type TailCrcState } from './format/stream-trailer.js';
export { S3SnapshotStore, type S3SnapshotStoreOptions, type S3StoredSnapshot } from './s3/s3-snapshot-store.js';
