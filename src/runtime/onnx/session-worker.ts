/**
 * Worker-thread entry: one onnxruntime session, one run at a time (the main thread never posts a
 * second run before the first answered). Inputs arrive as transferred buffers; outputs and the
 * input buffers go back by transfer too, so no tensor is structured-cloned.
 */
import { parentPort, workerData } from 'node:worker_threads';
import * as ort from 'onnxruntime-node';
import type { NumericArray } from '../../core/dtype.js';
import { ortToWire, specFromMetadata, wireToOrt, zeroInputs } from './tensor-convert.js';
import type { FromWorker, ToWorker, WarmupRequest, WarmupResult, WorkerInit } from './worker-messages.js';

const port = parentPort!;
const init = workerData as WorkerInit;

function send(message: FromWorker, transfer: ArrayBuffer[] = []): void {
  port.postMessage(message, transfer);
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

async function handleRun(session: ort.InferenceSession, msg: Extract<ToWorker, { type: 'run' }>): Promise<void> {
  const buffers = msg.feeds
    .filter((f) => !Array.isArray(f.data))
    .map((f) => (f.data as NumericArray).buffer as ArrayBuffer)
    .filter((b) => b.byteLength > 0);
  try {
    const feeds: Record<string, ort.Tensor> = {};
    for (const f of msg.feeds) feeds[f.name] = wireToOrt(f);
    const result = await session.run(feeds, msg.outputNames as string[]);
    const transfer: ArrayBuffer[] = [];
    const inputBuffers = new Set(buffers);
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
  }
}

async function main(): Promise<void> {
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
