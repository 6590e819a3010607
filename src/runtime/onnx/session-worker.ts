/**
 * Worker-thread entry: one onnxruntime session, one run at a time (the main thread never posts a
 * second run before the first answered). Inputs arrive in the main thread's shared buffers (copied
 * here into plain ones, which onnxruntime needs) or as transferred buffers; outputs and transferred
 * input buffers go back by transfer, so no tensor is structured-cloned.
 */
import { readlinkSync } from 'node:fs';
import { getPriority, setPriority } from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import * as ort from 'onnxruntime-node';
import type { NumericArray } from '../../core/dtype.js';
import { BufferPool } from '../../core/buffer-pool.js';
import { ortToWire, specFromMetadata, unshare, wireToOrt, zeroInputs } from './tensor-convert.js';
import type { FromWorker, ToWorker, WarmupRequest, WarmupResult, WorkerInit } from './worker-messages.js';

const port = parentPort!;
const init = workerData as WorkerInit;

function send(message: FromWorker, transfer: ArrayBuffer[] = []): void {
  port.postMessage(message, transfer);
}

/**
 * How much lower than the process this thread's scheduling priority is (nice increment). The
 * event-loop thread only needs short bursts of CPU, but with compute-bound runs on every core the
 * kernel made it wait for a time slice. With the cnn at 8 in flight on 2 cores, the bench's
 * status probe p99 went from 19-43 ms to 13-18 ms with the inference threads at +10. Inference
 * still gets all the CPU the event loop leaves; ORT's own intra-op threads are created by this
 * thread after this, and inherit the priority. The price: on a machine shared with other busy
 * processes, inference yields to them too.
 */
const NICE_INCREMENT = 10;

/**
 * Lowers the priority of this thread only: on Linux a thread id is accepted where a process id is,
 * and /proc/thread-self names it. Elsewhere, or without permission, the thread keeps the default.
 */
function lowerThreadPriority(): void {
  try {
    const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
    if (!Number.isSafeInteger(tid) || tid <= 0) return;
    setPriority(tid, Math.min(19, getPriority(tid) + NICE_INCREMENT));
  } catch {
    // not Linux, or not allowed: run at the process's priority
  }
}

/** Warm-up runs on zeros may fail (a model that rejects them): the caller reports it, ORT need not log it. */
const quiet: ort.InferenceSession.RunOptions = { logSeverityLevel: 4 };

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * Times a few runs on zero inputs. The fastest run is the model's cost: on a shared machine single
 * runs spike (other processes, GC), and a spike must not send a tiny model to a worker. A run far
 * above the threshold ends the measurement at once, so a heavy model costs little load time.
 */
async function warmUp(session: ort.InferenceSession, request: WarmupRequest): Promise<WarmupResult> {
  try {
    const specs = session.inputMetadata.map(specFromMetadata);
    const dynamicInputs = specs.filter((s) => s.shape.some((d, i) => i > 0 && d < 0)).map((s) => s.name);
    if (dynamicInputs.length > 0) return { runs: 0, dynamicInputs };
    const feeds = zeroInputs(specs);
    await session.run(feeds, quiet); // the first run allocates and is not representative
    let fastestMs = Infinity;
    let runs = 0;
    while (runs < request.maxRuns) {
      const start = performance.now();
      await session.run(feeds, quiet);
      const ms = performance.now() - start;
      runs++;
      fastestMs = Math.min(fastestMs, ms);
      if (ms >= 20 * request.thresholdMs) break;
      if (runs >= 3 && fastestMs < request.thresholdMs) break;
    }
    return { fastestMs, runs };
  } catch (err) {
    return { runs: 0, error: messageOf(err) };
  }
}

/** Plain buffers for the inputs that arrive in the main thread's shared memory (see buffer-pool.ts). */
const localBuffers = new BufferPool();

async function handleRun(session: ort.InferenceSession, msg: Extract<ToWorker, { type: 'run' }>): Promise<void> {
  // Transferred input buffers go back to the main thread's pool; shared ones never left it.
  const buffers = msg.feeds
    .filter((f) => !Array.isArray(f.data))
    .map((f) => (f.data as NumericArray).buffer)
    .filter((b): b is ArrayBuffer => b instanceof ArrayBuffer && b.byteLength > 0);
  const local: ArrayBuffer[] = [];
  try {
    const feeds: Record<string, ort.Tensor> = {};
    for (const f of msg.feeds) feeds[f.name] = wireToOrt(unshare(f, localBuffers, local));
    const result = await session.run(feeds, msg.outputNames as string[]);
    const transfer: ArrayBuffer[] = [];
    const inputBuffers = new Set<ArrayBufferLike>([...buffers, ...local]);
    const outputs = msg.outputNames.map((name) => {
      const tensor = result[name]!;
      const data = tensor.data as unknown as ArrayBufferView;
      // An output must never share memory with an input buffer that goes back to the pool.
      const shared = ArrayBuffer.isView(data) && inputBuffers.has(data.buffer as ArrayBuffer);
      return ortToWire(name, shared ? new ort.Tensor(tensor.type, (data as Uint8Array).slice(), tensor.dims) : tensor, transfer);
    });
    send({ type: 'result', id: msg.id, outputs, buffers }, [...new Set([...transfer, ...buffers])]);
  } catch (err) {
    send({ type: 'run-error', id: msg.id, message: messageOf(err), buffers }, buffers);
  } finally {
    for (const b of local) localBuffers.give(b);
  }
}

async function main(): Promise<void> {
  lowerThreadPriority();
  let session: ort.InferenceSession;
  try {
    ort.env.logLevel = 'error';
    session = await (init.model ? ort.InferenceSession.create(init.model, init.options) : ort.InferenceSession.create(init.file, init.options));
  } catch (err) {
    send({ type: 'init-error', message: messageOf(err) });
    port.close();
    return;
  }
  const warmup = init.warmup ? await warmUp(session, init.warmup) : undefined;
  send({ type: 'ready', inputs: session.inputMetadata, outputs: session.outputMetadata, warmup });

  port.on('message', (msg: ToWorker) => {
    if (msg.type === 'run') {
      void handleRun(session, msg);
      return;
    }
    // close: release the native session, then let the thread end by closing its only handle.
    void session.release().finally(() => port.close());
  });
}

void main();
