/** The limits S3 puts on multipart uploads (the sink checks options and records against them). */

/** S3's smallest part (all but the last must be at least this): 5 MiB. */
export const S3_MIN_PART_SIZE = 5 * 1024 * 1024;
/** S3's largest part: 5 GiB. */
export const S3_MAX_PART_SIZE = 5 * 1024 * 1024 * 1024;
/** S3's most parts per upload: 10,000 (so a stream may be at most this many times `partSize`). */
export const S3_MAX_PARTS = 10_000;
