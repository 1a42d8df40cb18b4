/** Moving snapshots between machines: send, serve, and the one-way receive. */
import fs from 'node:fs/promises';
import net from 'node:net';
import { pipeline } from 'node:stream/promises';
import tls from 'node:tls';
import { ChunkedReceiver } from '../../sink/chunked-receiver.js';
import { Dechunker } from '../../streams/dechunker.js';
import { DirectorySnapshotStore } from '../../store/directory-snapshot-store.js';
import { sendSnapshot } from '../../transfer/send-snapshot.js';
import { createSnapshotServer, type SnapshotServerOptions } from '../../transfer/snapshot-server.js';
import { intOption, type ParsedArgs } from '../args.js';
import { report, withHint, type Command } from '../command.js';
import { EXIT, UsageError } from '../exit-codes.js';
import { formatBytes, plural } from '../format.js';
import { ByteCounter, fileSize, ProgressBar, stdinSize } from '../progress.js';
import { readSecret } from '../secret.js';
import path from 'node:path';

/** `part` as a percentage of `whole`, for a summary line. */
function percent(part: number, whole: number): string {
  return `${whole > 0 ? ((100 * part) / whole).toFixed(1) : '0'}%`;
}

/** `HOST:PORT`, `[IPv6]:PORT`, or a Unix socket path (anything with a `/`). */
export function parseAddress(text: string | undefined, flag: string): { host: string; port: number } | { path: string } {
  if (!text) throw new UsageError(`${flag} is required`);
  if (text.includes('/')) return { path: text };
  const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d+)$/.exec(text);
  if (!m) throw new UsageError(`${flag} must be HOST:PORT or a socket path, got ${text}`);
  const port = Number(m[3]);
  if (port < 0 || port > 65535) throw new UsageError(`${flag}: bad port ${m[3]}`);
  return { host: (m[1] ?? m[2])!, port };
}

function only(args: ParsedArgs, count: number, what: string): string[] {
  if (args.positional.length !== count) throw new UsageError(`${what} takes ${count === 0 ? 'no' : count} argument${count === 1 ? '' : 's'}`);
  return args.positional;
}

export const networkCommands: Record<string, Command> = {
  send: {
    usage: 'send FILE --to HOST:PORT|SOCKET [--id ID] [--tls [--ca FILE] [--servername NAME]] [--secret-file FILE] [--chunk-size N] [--retries N] [--rate-limit BYTES/S] [--no-delta]',
    summary: 'ship a file to a snapstream server; sends only the frames the server lacks; resumes after a dropped connection',
    flags: { values: ['--to', '--id', '--ca', '--servername', '--secret-file', '--secret', '--chunk-size', '--retries', '--rate-limit'], switches: ['--tls', '--no-delta'] },
    async run(args, ctx) {
      const [file] = only(args, 1, 'send');
      const to = parseAddress(args.values.get('--to'), '--to');
      const secret = await readSecret(args);
      const ca = args.values.has('--ca') ? await fs.readFile(args.values.get('--ca')!) : undefined;
      const useTls = args.switches.has('--tls');
      const connect = (): net.Socket =>
        useTls
          ? tls.connect({
              ...('path' in to ? { path: to.path } : { host: to.host, port: to.port }),
              ...(ca ? { ca } : {}),
              servername: args.values.get('--servername') ?? ('host' in to ? to.host : 'localhost'),
            })
          : 'path' in to
            ? net.connect(to.path)
            : net.connect(to.port, to.host);
      const bar = new ProgressBar('send', { ...ctx, total: fileSize(file!) });
      const result = await sendSnapshot(file!, connect, {
        id: args.values.get('--id') ?? path.basename(file!).replace(/[^A-Za-z0-9._-]/g, '_').replace(/^[^A-Za-z0-9]+/, ''),
        ...(secret ? { secret } : {}),
        ...(args.values.has('--chunk-size') ? { chunkSize: intOption(args, '--chunk-size', 0) } : {}),
        // --retries counts reconnections; the library counts attempts.
        ...(args.values.has('--retries') ? { retries: intOption(args, '--retries', 0, 0) + 1 } : {}),
        // --rate-limit 0: no limit.
        ...(intOption(args, '--rate-limit', 0, 0) > 0 ? { rateLimit: intOption(args, '--rate-limit', 0, 0) } : {}),
        ...(args.switches.has('--no-delta') ? { delta: false } : {}),
        onProgress: (p) => bar.update({ bytes: p.bytes, total: p.total, saved: p.copied }),
      }).catch((err: unknown) => {
        bar.stop();
        throw err;
      });
      bar.done({ bytesOut: result.wireBytes });
      const saved = result.copiedBytes;
      report(ctx, { ...result, savedBytes: saved }, [
        `sent ${result.id}: ${formatBytes(result.bytes)}, resumed from ${formatBytes(result.resumedFrom)}, ` +
          `${plural(result.connections, 'connection')}, ${formatBytes(result.resentBytes)} sent twice`,
        ...(result.delta
          ? [`delta: ${formatBytes(saved)} (${percent(saved, result.bytes)}) taken from frames the receiver already had; ${formatBytes(result.wireBytes)} on the wire`]
          : []),
      ]);
      return EXIT.OK;
    },
  },
  serve: {
    usage: 'serve --dir DIR --listen HOST:PORT|SOCKET [--store] [--secret-file FILE] [--tls-cert FILE --tls-key FILE] [--insecure] [--max-size N] [--max-concurrent N] [--max-handshakes N] [--handshake-timeout MS] [--idle-timeout MS] [--no-delta]',
    summary: 'receive snapshots into DIR (or a snapshot store) until interrupted',
    flags: {
      values: ['--dir', '--listen', '--secret-file', '--secret', '--tls-cert', '--tls-key', '--max-size', '--max-concurrent', '--max-handshakes', '--handshake-timeout', '--idle-timeout'],
      switches: ['--insecure', '--store', '--no-delta'],
    },
    async run(args, ctx) {
      only(args, 0, 'serve');
      const dir = args.values.get('--dir');
      if (!dir) throw new UsageError('--dir is required');
      const where = parseAddress(args.values.get('--listen'), '--listen');
      const secret = await readSecret(args);
      const store = args.switches.has('--store') ? await DirectorySnapshotStore.at(dir) : null;
      const certFile = args.values.get('--tls-cert');
      const keyFile = args.values.get('--tls-key');
      if (!!certFile !== !!keyFile) throw new UsageError('--tls-cert and --tls-key go together');
      const options: SnapshotServerOptions = {
        ...(store ? store.serverOptions() : { dir }),
        ...(secret ? { secret } : {}),
        ...(args.switches.has('--insecure') ? { insecure: true } : {}),
        ...(certFile && keyFile ? { tls: { cert: await fs.readFile(certFile), key: await fs.readFile(keyFile) } } : {}),
        ...(args.values.has('--max-size') ? { maxSize: intOption(args, '--max-size', 0) } : {}),
        ...(args.values.has('--max-concurrent') ? { maxConcurrent: intOption(args, '--max-concurrent', 0) } : {}),
        ...(args.values.has('--max-handshakes') ? { maxHandshakes: intOption(args, '--max-handshakes', 1) } : {}),
        ...(args.values.has('--handshake-timeout') ? { handshakeTimeoutMs: intOption(args, '--handshake-timeout', 1) } : {}),
        ...(args.values.has('--idle-timeout') ? { idleTimeoutMs: intOption(args, '--idle-timeout', 0) } : {}),
        ...(args.switches.has('--no-delta') ? { delta: false } : {}),
      };
      const server = createSnapshotServer(options);
      const say = (event: string, data: Record<string, unknown>, line: string): void => {
        if (ctx.json) process.stdout.write(`${JSON.stringify({ event, ...data })}\n`);
        else if (!ctx.quiet) process.stderr.write(`${line}\n`);
      };
      server.on('installed', (i: { id: string; bytes: number; offset: number; copiedBytes?: number }) => {
        const saved = i.copiedBytes ?? 0;
        const delta = saved > 0 ? `, ${formatBytes(saved)} (${percent(saved, i.bytes)}) taken from frames already here` : '';
        say('installed', { ...i, savedBytes: saved }, `installed ${i.id} (${formatBytes(i.bytes)}, resumed from ${formatBytes(i.offset)}${delta})`);
      });
      server.on('refused', (r: { id: unknown; code: string; message: string; remote?: string }) =>
        say('refused', r, `refused ${String(r.id ?? `a connection from ${r.remote ?? 'a stream'}`)}: ${r.message}`),
      );
      server.on('transfer-error', (i: { id: string }, err: Error) => say('transfer-error', { id: i.id, message: err.message }, `transfer of ${i.id} failed: ${err.message}`));
      const address = await server.listen('path' in where ? { path: where.path } : where);
      const shown = typeof address === 'string' ? address : `${address.address}:${address.port}`;
      say('listening', { address: shown }, `listening on ${shown}, receiving into ${dir}`);
      await new Promise<void>((resolve) => {
        const stop = (): void => resolve();
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
      await server.close();
      await store?.close();
      return EXIT.OK;
    },
  },
  receive: {
    usage: 'receive FILE',
    summary: 'one-way: chunk frames on stdin → FILE, resuming FILE.partial; installed when the whole-file CRC checks',
    flags: {},
    async run(args, ctx) {
      const [file] = only(args, 1, 'receive');
      const receiver = new ChunkedReceiver({ path: file! });
      receiver.on('ready', ({ offset }: { offset: number }) => {
        if (!ctx.quiet && offset > 0) process.stderr.write(`resuming ${file}: ${formatBytes(offset)} already here\n`);
      });
      const input = new ByteCounter();
      const bar = new ProgressBar('receive', { ...ctx, total: stdinSize(), poll: () => ({ bytes: input.bytes }) });
      try {
        await pipeline(process.stdin, input, new Dechunker({ objects: true }), receiver);
      } catch (err) {
        bar.stop();
        // What is durable in FILE.partial stays: the chunks after it, sent again, continue it.
        const kept = fileSize(`${file}.partial`) ?? 0;
        throw kept > 0 ? withHint(err, `${file}.partial keeps ${formatBytes(kept)}: run \`snapstream receive ${file}\` again with the chunks from there on to resume`) : err;
      }
      bar.done({ bytesOut: receiver.offset });
      report(ctx, { path: file, bytes: receiver.offset }, [`received ${file} (${formatBytes(receiver.offset)})`]);
      return EXIT.OK;
    },
  },
};
