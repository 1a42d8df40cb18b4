/**
 * The AWS SDK's S3 client, loaded on first use. `snapstream` exports its S3 support from the
 * package root, and loading the SDK costs every process about 13 MB of memory, so a program that
 * never touches S3 never loads it. `sdk.PutObjectCommand` and the rest load it when first read.
 */
import { createRequire } from 'node:module';
import type * as S3Sdk from '@aws-sdk/client-s3';

const require = createRequire(import.meta.url);
let loaded: typeof S3Sdk | null = null;

/** `@aws-sdk/client-s3` (its one CommonJS build, the same module an `import` of it gives). */
export const sdk: typeof S3Sdk = new Proxy({} as typeof S3Sdk, {
  get: (_target, name) => (loaded ??= require('@aws-sdk/client-s3') as typeof S3Sdk)[name as keyof typeof S3Sdk],
});
