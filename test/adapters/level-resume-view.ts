// A LevelDB source resumed in the same process continues after the cursor in the view it took
// when made: writes made since do not leak into the snapshot.
import t from 'tap';
import path from 'node:path';
import { ClassicLevel } from 'classic-level';
import { levelSource, type Entry } from '../../lib/index.js';

t.test('resume after a cursor reads the original view', async (t) => {
  const db = new ClassicLevel<string, string>(path.join(t.testdir(), 'db'), { keyEncoding: 'utf8', valueEncoding: 'utf8' });
  await db.open();
  t.teardown(() => db.close());
  for (let i = 0; i < 3000; i++) await db.put(`k${String(i).padStart(5, '0')}`, `v${i}`);
  const source = levelSource(db);
  // After the view: a changed key past the cursor and a new one.
  await db.put('k02000', 'changed later');
  await db.put('k99999', 'added later');
  const keys: string[] = [];
  const values = new Map<string, string>();
  for await (const batch of source.entries(Buffer.from('k01000').toString('base64')) as AsyncIterable<Entry[]>) {
    for (const e of batch) {
      keys.push(e.key.toString());
      values.set(e.key.toString(), e.value.toString());
    }
  }
  t.equal(keys[0], 'k01001', 'starts after the cursor');
  t.equal(keys.length, 1999, 'every key after the cursor, once');
  t.equal(values.get('k02000'), 'v2000', 'values as they were when the source was made');
  t.notOk(values.has('k99999'), 'no key written after the source was made');
});
