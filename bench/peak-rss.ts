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
