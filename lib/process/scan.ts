import * as fs from 'node:fs';
import { processStatus } from '../state';

/**
 * The pids sharing the init's namespace of `type` (pid, or mnt for a container without a
 * private pid namespace), init included. The init's start time is checked first so a reused
 * pid never makes us pick someone else's namespace. Never returns pid 1 or ourselves.
 */
export function containerProcesses(initPid: number, initStartTime: string, type: 'pid' | 'mnt'): number[] {
  if (!initPid || processStatus(initPid, initStartTime) === 'gone') return [];
  let target: string;
  let own: string;
  try {
    target = fs.readlinkSync(`/proc/${initPid}/ns/${type}`);
    own = fs.readlinkSync(`/proc/self/ns/${type}`);
  } catch {
    return [];
  }
  if (target === own) return [initPid];
  const pids: number[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid) || pid <= 1 || pid === process.pid) continue;
    try {
      if (fs.readlinkSync(`/proc/${pid}/ns/${type}`) === target) pids.push(pid);
    } catch {
      // exited meanwhile, or a kernel thread
    }
  }
  return pids;
}
