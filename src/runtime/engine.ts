import type { Logger } from 'pino';
import type { InferObserver } from '../core/servable.js';
import type { TensorMap, TensorSpec } from '../core/tensor.js';

/** Settings a runtime needs to create sessions for one model version (from CLI or config.json). */
export interface RuntimeOptions {
  /** Concurrent inferences allowed on this version; more requests wait in a queue. 0 = auto. */
  readonly nireq: number;
  readonly targetDevice: string;
  /** OVMS plugin_config, values stringified (CPU_THROUGHPUT_STREAMS, NUM_STREAMS, ...). */
  readonly pluginConfig: Readonly<Record<string, string>>;
  /**
   * Fixed input shapes to load the model with, keyed by model input name, in the model's own
   * layout (from `shape` / `batch_size`, or a request's shapes under `auto`). A -1 keeps the
   * model's own dimension there. Inputs not listed keep their shapes. A shape the model cannot take
   * fails the load with RESHAPE_ERROR.
   */
  readonly inputShapes?: Readonly<Record<string, readonly number[]>>;
  /**
   * Tensors (inputs or outputs) whose clients use another dimension order than the model: the
   * runtime transposes between them, and the loaded model's specs show the client's side.
   */
  readonly layouts?: Readonly<Record<string, LayoutChange>>;
  /** Inputs normalised inside the model as `(x - mean) / scale` before it sees them. */
  readonly normalization?: Readonly<Record<string, Normalization>>;
}

/** Dimension orders by letter (e.g. client "NHWC", model "NCHW"): same letters, another order. */
export interface LayoutChange {
  readonly client: string;
  readonly model: string;
}

export interface Normalization {
  /** One value, or one per channel along `channelAxis` (an axis of the model's own layout). */
  readonly mean: readonly number[];
  readonly scale: readonly number[];
  readonly channelAxis?: number;
}

export interface LoadRequest {
  readonly modelName: string;
  readonly version: number;
  /** Local folder holding the version's files (a cloud version is downloaded here first). */
  readonly dir: string;
  /** The model files chosen by `ModelFormat.pick`, as paths relative to `dir`. */
  readonly files: readonly string[];
  readonly options: RuntimeOptions;
  readonly logger: Logger;
}

/** A model version ready to run. Implementations own their sessions, threads and queues. */
export interface LoadedModel {
  readonly inputs: readonly TensorSpec[];
  readonly outputs: readonly TensorSpec[];
  /**
   * Runs once; `outputNames` is a non-empty subset of `outputs`. Inputs are already validated.
   * `observe` (metrics, optional to implement) gets the µs waited for a nireq slot and run.
   */
  run(inputs: TensorMap, outputNames: readonly string[], signal?: AbortSignal, observe?: InferObserver): Promise<TensorMap>;
  /** Frees sessions; called after in-flight runs have finished. */
  close(): Promise<void>;

  // Optional (other formats and test doubles may omit them): how the version executes, for
  // logs, status and metrics (ovms_streams, ovms_infer_req_queue_size, ovms_infer_req_active).
  /** 'inline' = on the event-loop thread; 'worker' = in worker threads, one session each. */
  readonly executionMode?: 'inline' | 'worker';
  /** Sessions that can run at the same time. */
  readonly streams?: number;
  /** Concurrent runs admitted (resolved: never 0). */
  readonly nireq?: number;
  /** Runs waiting for one of the nireq slots (live value). */
  readonly queued?: number;
  /** Runs holding a nireq slot (live value). */
  readonly active?: number;
}

/** One model file format (onnx now, OpenVINO IR later) behind the same interface. */
export interface ModelFormat {
  readonly name: string;
  /** Picks this format's model files among a version folder's file names, or undefined if none. */
  pick(fileNames: readonly string[]): string[] | undefined;
  load(request: LoadRequest): Promise<LoadedModel>;
  /**
   * Optional: the model's own inputs and outputs without creating sessions (cheap), so shape and
   * layout settings can be resolved before the one real load. Without it the serving layer loads
   * the model as it is first, and again with the resolved settings when they change anything.
   */
  inspect?(request: Omit<LoadRequest, 'options'>): Promise<{ inputs: TensorSpec[]; outputs: TensorSpec[] }>;
}
