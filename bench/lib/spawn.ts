/**
 * Child processes the bench starts (tsms, reference servers, load generators): spawn, wait for a
 * readiness line, keep draining output so a chatty child never blocks on a full pipe, stop by pid.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { freePort } from '../../scripts/lib/free-port.js';

export { freePort };

export interface Child {
  readonly proc: ChildProcess;
  readonly pid: number;
  /** The last ~64 KB the child printed (stdout + stderr), for error messages. */
  tail(): string;
  waitFor(text: string | RegExp, timeoutMs: number): Promise<void>;
  readonly exited: Promise<number | null>;
  stop(): Promise<void>;
}

const TAIL = 64 * 1024;

/** Every child still running, so an interrupted bench (Ctrl-C) can stop them all by pid. */
const live = new Set<ChildProcess>();

export function killLiveChildren(): void {
  for (const proc of live) proc.kill('SIGKILL');
  live.clear();
}

export function startChild(command: string, args: readonly string[], env?: NodeJS.ProcessEnv): Child {
  const proc = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  live.add(proc);
  proc.on('exit', () => live.delete(proc));
  let out = '';
  const waiters: { text: string | RegExp; resolve: () => void }[] = [];
  const matches = (t: string | RegExp) => (typeof t === 'string' ? out.includes(t) : t.test(out));
  const onData = (chunk: Buffer) => {
    out += chunk.toString();
    for (let i = waiters.length - 1; i >= 0; i--) {
      if (matches(waiters[i]!.text)) waiters.splice(i, 1)[0]!.resolve();
    }
    if (out.length > 2 * TAIL) out = out.slice(-TAIL);
  };
  proc.stdout!.on('data', onData);
  proc.stderr!.on('data', onData);
  const exited = new Promise<number | null>((resolve) => {
    proc.on('exit', (code, signal) => resolve(code ?? (signal ? -1 : null)));
    proc.on('error', () => resolve(-2));
  });
  return {
    proc,
    pid: proc.pid ?? -1,
    tail: () => out.slice(-TAIL),
    exited,
    waitFor(text, timeoutMs) {
      return new Promise<void>((resolve, reject) => {
        if (matches(text)) return resolve();
        const timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms waiting for ${String(text)} from ${command}; output:\n${out.slice(-4000)}`)), timeoutMs);
        waiters.push({ text, resolve: () => { clearTimeout(timer); resolve(); } });
        void exited.then((code) => {
          clearTimeout(timer);
          reject(new Error(`${command} exited (${code}) before ${String(text)}; output:\n${out.slice(-4000)}`));
        });
      });
    },
    async stop() {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      proc.kill('SIGTERM');
      const timer = setTimeout(() => proc.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Runs a command to completion and returns its output (load generators). */
export async function runToEnd(command: string, args: readonly string[], timeoutMs: number): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const proc = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    live.add(proc);
    proc.on('exit', () => live.delete(proc));
    let stdout = '';
    let stderr = '';
    proc.stdout.on('data', (c: Buffer) => { stdout += c.toString(); });
    proc.stderr.on('data', (c: Buffer) => { stderr += c.toString(); });
    const timer = setTimeout(() => proc.kill('SIGKILL'), timeoutMs);
    proc.on('error', (err) => { clearTimeout(timer); reject(err); });
    proc.on('close', (code) => { clearTimeout(timer); resolve({ code, stdout, stderr }); });
  });
}
