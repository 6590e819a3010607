/**
 * Reads process and system counters from /proc (Linux only): CPU time of a process tree, its
 * resident set, whole-machine busy time, and the CPU of this process's reaped children
 * (that is how the load generator's CPU is measured: it exits inside the window).
 */
import { readFileSync, readdirSync } from 'node:fs';

const TICKS_PER_SECOND = 100; // USER_HZ; 100 on every Linux kernel we run on

/** Fields of /proc/<pid>/stat after the ")" that closes the command name. */
function statFields(pid: number | 'self'): string[] | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return text.slice(text.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

/** utime+stime of one process in seconds (all its threads), or 0 if it is gone. */
export function processCpuSeconds(pid: number): number {
  const f = statFields(pid);
  if (!f) return 0;
  // After ")": state=0, ppid=1, ..., utime=11, stime=12 (fields 14 and 15 of proc(5)).
  return (Number(f[11]) + Number(f[12])) / TICKS_PER_SECOND;
}

/** pid plus every descendant alive now (a server may fork workers or use node:cluster). */
export function processTree(root: number): number[] {
  const children = new Map<number, number[]>();
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return [root];
  }
  for (const name of entries) {
    if (!/^\d+$/.test(name)) continue;
    const f = statFields(Number(name));
    if (!f) continue;
    const ppid = Number(f[1]);
    const list = children.get(ppid) ?? [];
    list.push(Number(name));
    children.set(ppid, list);
  }
  const out: number[] = [];
  const stack = [root];
  while (stack.length) {
    const pid = stack.pop()!;
    out.push(pid);
    stack.push(...(children.get(pid) ?? []));
  }
  return out;
}

/** CPU seconds used so far by a process and its live descendants. */
export function treeCpuSeconds(root: number): number {
  return processTree(root).reduce((sum, pid) => sum + processCpuSeconds(pid), 0);
}

/** Resident set (bytes) of one process from VmRSS, 0 if gone. */
export function rssBytes(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

export function treeRssBytes(root: number): number {
  return processTree(root).reduce((sum, pid) => sum + rssBytes(pid), 0);
}

/** CPU seconds of this process's children that have exited and been waited for (cutime+cstime). */
export function reapedChildrenCpuSeconds(): number {
  const f = statFields('self');
  if (!f) return 0;
  return (Number(f[13]) + Number(f[14])) / TICKS_PER_SECOND;
}

export function selfCpuSeconds(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

export interface SystemTimes {
  readonly busy: number;
  readonly total: number;
  readonly steal: number;
}

/** Aggregate CPU line of /proc/stat, in ticks. */
export function systemTimes(): SystemTimes {
  const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!;
  const v = line.trim().split(/\s+/).slice(1).map(Number);
  const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] = v;
  const busy = user + nice + system + irq + softirq + steal;
  return { busy, total: busy + idle + iowait, steal };
}

/** Busy cores between two samples (0..number of cores). */
export function busyCores(a: SystemTimes, b: SystemTimes, cores: number): number {
  const total = b.total - a.total;
  return total > 0 ? ((b.busy - a.busy) / total) * cores : 0;
}
