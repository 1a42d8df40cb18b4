/** Lines a benchmark reads from the child processes it starts. */
import type { ChildProcess } from 'node:child_process';

/** The first line `child` prints on its stdout; rejects if it exits with an error first. */
export function waitLine(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    child.stdout!.on('data', (d: Buffer) => {
      text += d;
      const nl = text.indexOf('\n');
      if (nl >= 0) resolve(text.slice(0, nl));
    });
    child.on('exit', (code) => (code !== 0 ? reject(new Error(`child exited ${code}`)) : undefined));
  });
}
