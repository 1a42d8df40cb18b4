/** The encoded entry stream of a bench data set, written once into a file and reused by every script. */
import fs from 'node:fs';
import path from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { EntrySource, type RawBlock } from 'snapstream';
import { sizeLabel } from './bench-args.js';
import { datasetEntries, type Dataset } from './datasets.js';


/** The path of data set `name` of `size` bytes in `dir`, generated there first if it is not. */
export async function ensureRawDataset(dir: string, name: Dataset, size: number): Promise<string> {
  // The sample set keeps the name it always had.
  const file = path.join(dir, name === 'sample' ? `raw-${size}.bin` : `raw-${name}-${size}.bin`);
  if (fs.existsSync(file)) return file;
  fs.mkdirSync(dir, { recursive: true });
  process.stderr.write(`generating ${sizeLabel(size)} ${name} data set in ${file} …\n`);
  await pipeline(
    new EntrySource(datasetEntries(name, size)),
    new Transform({ writableObjectMode: true, transform: (b: RawBlock, _e, cb) => cb(null, b.data) }),
    fs.createWriteStream(`${file}.tmp`),
  );
  fs.renameSync(`${file}.tmp`, file);
  return file;
}
