/**
 * The inference of the bench's floor servers (refs/http2-ort.ts, refs/bare-http.ts with `floor`): one
 * onnxruntime-node run per request on the model's fixed bench input, so the floor pays for the
 * runtime and nothing else (no decoding, no copy of the request's tensor).
 * - `workers` 0: one session on the main thread, intraOp 1 (tiny and memory-bound models: a thread
 *   hop would cost more than it saves);
 * - `workers` N: N worker_threads with a session each (intraOp 1), one run in flight per worker and
 *   the rest waiting in FIFO order: how tsms runs a compute-bound model on 2 cores, so the floor
 *   uses both cores as tsms does. Each request costs the main thread one message each way.
 */
import { readFileSync } from 'node:fs';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import * as ort from 'onnxruntime-node';
import { referenceSessionOptions } from '../lib/ort-options.js';

export interface OrtRunnerParams {
  readonly modelFile: string;
  readonly inputName: string;
  readonly shape: readonly number[];
  /** Raw little-endian float32 file holding one request's input. */
  readonly inputFile: string;
  readonly workers: number;
}

export interface OrtRunner {
  /** One run; resolves when its outputs exist. */
  run(): Promise<void>;
}

interface WorkerInit {
  readonly ortRunner: OrtRunnerParams;
}

export interface BenchSession {
  /** One run on the bench input. */
  run(): Promise<unknown>;
  release(): Promise<void>;
}

/** A session on the model with the server's session options, fed the bench input (also refs/inproc.ts). */
export async function openBenchSession(p: Omit<OrtRunnerParams, 'workers'>, intraOp: number): Promise<BenchSession> {
  const session = await ort.InferenceSession.create(p.modelFile, referenceSessionOptions(intraOp));
  const raw = readFileSync(p.inputFile);
  const input = new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength));
  const feed = { [p.inputName]: new ort.Tensor('float32', input, [...p.shape]) };
  return { run: () => session.run(feed), release: () => session.release() };
}

export async function startOrtRunner(p: OrtRunnerParams): Promise<OrtRunner> {
  if (p.workers <= 0) {
    const session = await openBenchSession(p, 1);
    return { run: async () => void (await session.run()) };
  }
  const idle: Worker[] = [];
  const waiting: { resolve: () => void; reject: (err: Error) => void }[] = [];
  const current = new Map<Worker, { resolve: () => void; reject: (err: Error) => void }>();
  const dispatch = (worker: Worker) => {
    const next = waiting.shift();
    if (!next) {
      idle.push(worker);
      return;
    }
    current.set(worker, next);
    worker.postMessage(0);
  };
  await Promise.all(Array.from({ length: p.workers }, () => new Promise<void>((ready, failed) => {
    const worker = new Worker(new URL(import.meta.url), { workerData: { ortRunner: p } satisfies WorkerInit });
    worker.once('error', failed);
    worker.once('message', () => {
      worker.on('message', (error: string | null) => {
        const job = current.get(worker)!;
        current.delete(worker);
        if (error === null) job.resolve();
        else job.reject(new Error(error));
        dispatch(worker);
      });
      idle.push(worker);
      ready();
    });
  })));
  for (const w of idle) w.unref();
  return {
    run: () => new Promise<void>((resolve, reject) => {
      waiting.push({ resolve, reject });
      const worker = idle.pop();
      if (worker) dispatch(worker);
    }),
  };
}

// A worker of startOrtRunner: "ready" once its session exists, then one reply per run request.
if (!isMainThread && (workerData as Partial<WorkerInit> | undefined)?.ortRunner) {
  const session = await openBenchSession((workerData as WorkerInit).ortRunner, 1);
  parentPort!.on('message', () => {
    session.run().then(
      () => parentPort!.postMessage(null),
      (err: unknown) => parentPort!.postMessage(String(err)),
    );
  });
  parentPort!.postMessage('ready');
}
