/**
 * Starts tsms as a real child process on free ports and waits until both listeners are up.
 * Integration tests talk to it over sockets only.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { freePort } from '../../scripts/lib/free-port.js';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export const mainScript = path.join(repoRoot, 'dist/src/cli/main.js');

export { freePort };

export interface RunningServer {
  readonly grpcPort: number;
  readonly restPort: number;
  readonly grpcAddress: string;
  readonly restUrl: string;
  readonly proc: ChildProcess;
  /** Everything the process printed so far (stdout + stderr). */
  output(): string;
  /** Resolves when `text` appears in the output (or rejects after `timeoutMs`). */
  waitForOutput(text: string | RegExp, timeoutMs?: number): Promise<void>;
  /** SIGTERM, then wait for exit; returns the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export interface StartOptions {
  /** Extra flags; --port/--rest_port are added unless given. */
  readonly args: readonly string[];
  readonly env?: NodeJS.ProcessEnv;
  readonly timeoutMs?: number;
  /** Don't pass --rest_port. */
  readonly noRest?: boolean;
}

export async function startServer(opts: StartOptions): Promise<RunningServer> {
  const grpcPort = await freePort();
  const restPort = opts.noRest ? 0 : await freePort();
  const args = [mainScript, '--port', String(grpcPort), ...(opts.noRest ? [] : ['--rest_port', String(restPort)]), ...opts.args];
  const proc = spawn(process.execPath, args, { env: { ...process.env, ...opts.env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const waiters: { re: string | RegExp; resolve: () => void }[] = [];
  const onData = (chunk: Buffer) => {
    out += chunk.toString();
    for (let i = waiters.length - 1; i >= 0; i--) {
      const w = waiters[i]!;
      if (typeof w.re === 'string' ? out.includes(w.re) : w.re.test(out)) {
        waiters.splice(i, 1);
        w.resolve();
      }
    }
  };
  proc.stdout!.on('data', onData);
  proc.stderr!.on('data', onData);
  const exited = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));

  const waitForOutput = (text: string | RegExp, timeoutMs = 15000) =>
    new Promise<void>((resolve, reject) => {
      if (typeof text === 'string' ? out.includes(text) : text.test(out)) return resolve();
      const timer = setTimeout(() => reject(new Error(`timed out waiting for ${String(text)}; output:\n${out}`)), timeoutMs);
      waiters.push({ re: text, resolve: () => { clearTimeout(timer); resolve(); } });
      void exited.then((code) => { clearTimeout(timer); reject(new Error(`server exited (${code}) before ${String(text)}; output:\n${out}`)); });
    });

  await waitForOutput(`Server started on port ${grpcPort}`, opts.timeoutMs ?? 30000);
  if (!opts.noRest) await waitForOutput(`Started REST server at`, opts.timeoutMs ?? 30000);

  return {
    grpcPort,
    restPort,
    grpcAddress: `127.0.0.1:${grpcPort}`,
    restUrl: `http://127.0.0.1:${restPort}`,
    proc,
    output: () => out,
    waitForOutput,
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      if (proc.exitCode !== null || proc.signalCode !== null) return proc.exitCode;
      proc.kill(signal);
      const timer = setTimeout(() => proc.kill('SIGKILL'), 10000);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}

/** Runs the CLI to completion (for flag validation tests). */
export async function runCli(args: readonly string[], timeoutMs = 20000): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, [mainScript, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    proc.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    proc.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => { proc.kill('SIGKILL'); reject(new Error(`CLI did not exit: ${args.join(' ')}\n${stdout}\n${stderr}`)); }, timeoutMs);
    proc.on('exit', (code) => { clearTimeout(timer); resolve({ code, stdout, stderr }); });
  });
}

/** The shared folder beside the checkout (CI always has it; a user's fresh clone may not). */
export const sharedDir = path.resolve(repoRoot, '../shared');
export const sharedModels = path.join(sharedDir, 'models');
