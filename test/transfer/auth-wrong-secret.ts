/**
 * With a shared secret on the server, a sender with a wrong secret or none gets SNAP_ERR_AUTH
 * (an AuthError, not retried) and nothing is written on the receiver: no file, no partial. The
 * right secret works, and the secret itself never crosses the wire in either direction. A
 * sender with a secret refuses a server that cannot prove it knows it.
 */
import t from 'tap';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { AuthError } from '../../lib/errors.js';
import { createSnapshotServer } from '../../lib/transfer/snapshot-server.js';
import { sendSnapshot } from '../../lib/transfer/send-snapshot.js';
import { seededRandomBytes } from '../fixtures/random.js';

const randomBytes = seededRandomBytes(t, 0xea5e6999);

const MiB = 1024 * 1024;
const SECRET = 'correct horse battery staple';

/** A connection factory that records every byte both ways. */
function recording(port: number): { connect: () => net.Socket; wire: Buffer[]; calls: () => number } {
  const wire: Buffer[] = [];
  let calls = 0;
  return {
    wire,
    calls: () => calls,
    connect: () => {
      calls++;
      const socket = net.connect(port, '127.0.0.1');
      const write = socket.write.bind(socket) as (chunk: Buffer, ...rest: unknown[]) => boolean;
      socket.write = ((chunk: Buffer, ...rest: unknown[]) => {
        wire.push(Buffer.from(chunk));
        return write(chunk, ...rest);
      }) as typeof socket.write;
      socket.on('data', (d: Buffer) => wire.push(Buffer.from(d)));
      return socket;
    },
  };
}

t.test('wrong or missing secret: SNAP_ERR_AUTH, nothing written', async (t) => {
  const dir = t.testdir({ out: {} });
  const out = path.join(dir, 'out');
  const source = path.join(dir, 'src');
  const data = randomBytes(5 * MiB);
  fs.writeFileSync(source, data);
  const server = createSnapshotServer({ dir: out, secret: SECRET });
  const refused: { code: string }[] = [];
  server.on('refused', (e) => refused.push(e));
  const { port } = (await server.listen({ port: 0 })) as net.AddressInfo;
  t.teardown(() => server.close());

  for (const [name, secret] of [['a wrong secret', 'incorrect horse'], ['no secret', undefined]] as const) {
    const rec = recording(port);
    const err = await sendSnapshot(source, rec.connect, { id: 'snap', retries: 5, ...(secret === undefined ? {} : { secret }) }).then(
      () => null,
      (e: unknown) => e,
    );
    t.ok(err instanceof AuthError, `${name}: an AuthError`);
    t.match(err, { code: 'SNAP_ERR_AUTH', message: /authentication failed/ });
    t.equal(rec.calls(), 1, `${name}: not retried`);
    t.same(fs.readdirSync(out), [], `${name}: nothing in the directory`);
  }
  t.same(refused.map((r) => r.code), ['SNAP_ERR_AUTH', 'SNAP_ERR_AUTH']);

  const rec = recording(port);
  const result = await sendSnapshot(source, rec.connect, { id: 'snap', secret: SECRET });
  t.equal(result.bytes, data.length, 'the right secret works');
  t.ok(fs.readFileSync(path.join(out, 'snap')).equals(data));
  const wire = Buffer.concat(rec.wire);
  t.ok(wire.length > data.length, 'the whole exchange was recorded');
  t.equal(wire.indexOf(SECRET), -1, 'the secret never crossed the wire');
  t.equal(wire.indexOf(Buffer.from(SECRET).toString('hex')), -1, '... not even in hex');
});

t.test('a server without the secret cannot fool a sender that has one', async (t) => {
  const dir = t.testdir({ out: {} });
  const source = path.join(dir, 'src');
  fs.writeFileSync(source, randomBytes(1000));
  const server = createSnapshotServer({ dir: path.join(dir, 'out') });
  const { port } = (await server.listen({ port: 0 })) as net.AddressInfo;
  t.teardown(() => server.close());
  await t.rejects(sendSnapshot(source, net.connect(port, '127.0.0.1'), { id: 'snap', secret: SECRET }), {
    code: 'SNAP_ERR_AUTH',
    message: /could not prove/,
  });
  t.notOk(fs.existsSync(path.join(dir, 'out', 'snap')), 'nothing installed');
});
