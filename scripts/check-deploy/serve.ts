/**
 * Starts a tsms from somewhere else than this checkout (an installed package, a simulated image)
 * on free loopback ports and waits for its start lines, for the deployment checks.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { freePort } from '../lib/free-port.js';

export { freePort };

export interface ServerProcess {
  readonly proc: ChildProcess;
  readonly grpcPort: number;
  readonly restPort: number;
  readonly restUrl: string;
  readonly grpcAddress: string;
  output(): string;
  /** SIGTERM, then SIGKILL after 10 s; resolves with the exit code. */
  stop(): Promise<number | null>;
}

export interface ServeOptions {
  /** The program and its leading arguments, e.g. ['/prefix/bin/tsms'] or [node, main.js]. */
  readonly command: readonly string[];
  /** Flags besides the ports (bound to 127.0.0.1). */
  readonly args: readonly string[];
  readonly env?: NodeJS.ProcessEnv;
  readonly cwd?: string;
  readonly timeoutMs?: number;
}

export async function serve(options: ServeOptions): Promise<ServerProcess> {
  const grpcPort = await freePort();
  const restPort = await freePort();
  const [program, ...lead] = options.command;
  const args = [...lead, '--port', String(grpcPort), '--rest_port', String(restPort), '--grpc_bind_address', '127.0.0.1', '--rest_bind_address', '127.0.0.1', ...options.args];
  const proc = spawn(program!, args, { cwd: options.cwd, env: { ...process.env, ...options.env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  proc.stderr!.on('data', (c: Buffer) => (out += c.toString()));
  const exited = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));
  const running: ServerProcess = {
    proc,
    grpcPort,
    restPort,
    restUrl: `http://127.0.0.1:${restPort}`,
    grpcAddress: `127.0.0.1:${grpcPort}`,
    output: () => out,
    async stop() {
      if (proc.exitCode !== null || proc.signalCode !== null) return proc.exitCode;
      proc.kill('SIGTERM');
      const timer = setTimeout(() => proc.kill('SIGKILL'), 10000);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
  const deadline = Date.now() + (options.timeoutMs ?? 60000);
  while (!out.includes('Started REST server at')) {
    if (proc.exitCode !== null || proc.signalCode !== null) throw new Error(`${program} exited (${proc.exitCode ?? proc.signalCode}) before serving:\n${out}`);
    if (Date.now() > deadline) {
      await running.stop();
      throw new Error(`${program} did not start serving in time:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return running;
}
