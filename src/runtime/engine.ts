import type { Logger } from 'pino';
import type { TensorMap, TensorSpec } from '../core/tensor.js';

/** Settings a runtime needs to create sessions for one model version (from CLI or config.json). */
export interface RuntimeOptions {
  /** Concurrent inferences allowed on this version; more requests wait in a queue. 0 = auto. */
  readonly nireq: number;
  readonly targetDevice: string;
  /** OVMS plugin_config, values stringified (CPU_THROUGHPUT_STREAMS, NUM_STREAMS, ...). */
  readonly pluginConfig: Readonly<Record<string, string>>;
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
  /** Runs once; `outputNames` is a non-empty subset of `outputs`. Inputs are already validated. */
  run(inputs: TensorMap, outputNames: readonly string[], signal?: AbortSignal): Promise<TensorMap>;
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
}
