// `npm run test:s3` measures lib/s3 (which `npm test` leaves out: it needs a real S3 server):
// the S3 tests' coverage counts for lib/s3 only, sources and the built files the CLI runs.
export default () => ['lib/s3/**/*.ts', 'dist/s3/**/*.js'];
