/**
 * This process's own peak RSS in MB. Not `process.resourceUsage().maxRSS`: Linux carries a
 * parent's peak across fork and exec into the child's maxRSS, so a case spawned by a parent that
 * once held 2 GB would report 2 GB. VmHWM in /proc/self/status belongs to this process's own
 * address space, which exec made new.
 */
import fs from 'node:fs';

export function peakRssMB(): number {
  const m = /^VmHWM:\s+(\d+) kB$/m.exec(fs.readFileSync('/proc/self/status', 'utf8'));
  return m ? Number(m[1]) / 1024 : process.resourceUsage().maxRSS / 1024;
}

/**
 * CPU seconds (user + system) of this whole process (every thread) and of the calling thread
 * alone, from /proc (null elsewhere). CPU time moves far less with the load of a shared machine
 * than wall time does.
 */
export function cpuSeconds(): { process: number; thread: number } | null {
  const ticks = (file: string): number => {
    // Fields after the command name, which is in parentheses and may hold spaces.
    const fields = fs.readFileSync(file, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  };
  try {
    return { process: ticks('/proc/self/stat'), thread: ticks('/proc/thread-self/stat') };
  } catch {
    return null;
  }
}
