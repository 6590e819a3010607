import type { TensorMap, TensorSpec } from './tensor.js';

export interface InferOptions {
  /** Aborted when the client goes away or its deadline passes. */
  readonly signal?: AbortSignal;
  /** Output names to compute and return; all outputs when absent (TFS output_filter, KServe outputs). */
  readonly outputs?: readonly string[];
  /**
   * When the client stops waiting, in Date.now() milliseconds (gRPC: `call.getDeadline()`). Work
   * still queued at that time is dropped with DEADLINE_EXCEEDED instead of being run for nobody.
   */
  readonly deadline?: number;
  /**
   * Metrics hook: called once per run with the microseconds spent waiting for a nireq slot and
   * running in the session. Absent (the default) means no timing is taken at all.
   */
  readonly observe?: InferObserver;
}

/** Receives one run's queue wait and execution time, in microseconds (src/metrics). */
export type InferObserver = (waitUs: number, inferenceUs: number) => void;

/**
 * Anything a client can call by name: a model version, and later a pipeline. Protocols see only
 * this; they never know which runtime or graph sits behind it.
 */
export interface Servable {
  readonly name: string;
  readonly version: number;
  readonly inputs: readonly TensorSpec[];
  readonly outputs: readonly TensorSpec[];
  /**
   * Validates `inputs` against `inputs` with serving/validation.ts first (a model version does it
   * inside infer, so every protocol gets the same OVMS messages without calling it), and refuses
   * work once the version is retiring. Resolves with the requested outputs (unknown name →
   * INVALID_OUTPUT_NAME).
   */
  infer(inputs: TensorMap, options?: InferOptions): Promise<TensorMap>;
}

/** TensorFlow Serving's ModelVersionStatus.State numbers (SPEC §4.3). */
export enum ModelState {
  START = 10,
  LOADING = 20,
  AVAILABLE = 30,
  UNLOADING = 40,
  END = 50,
}

/** tensorflow.error.Code values used in version status (OK, UNKNOWN for failed loads, FAILED_PRECONDITION). */
export enum VersionErrorCode {
  OK = 0,
  UNKNOWN = 2,
  FAILED_PRECONDITION = 9,
}

export interface VersionStatus {
  readonly version: number;
  readonly state: ModelState;
  readonly errorCode: VersionErrorCode;
  /** OVMS prints the code's name here ("OK", "UNKNOWN"); `detail` keeps the real reason for logs and /v1/config. */
  readonly errorMessage: string;
  readonly detail?: string;
}

/** What every protocol front end needs from the serving layer. */
export interface ServableRegistry {
  /**
   * The servable for a request. `version` 0/undefined means the default (highest AVAILABLE).
   * With `waitForLoading`, a version still LOADING is waited for (Predict does, up to 10 s);
   * otherwise it fails at once with "not loaded yet" (metadata does).
   */
  getServable(name: string, version?: number, options?: { waitForLoading?: boolean; signal?: AbortSignal }): Promise<Servable>;
  /**
   * The servable when it can take a request right now (a model version that is AVAILABLE), else
   * undefined: the caller then asks getServable, which waits or fails with the precise error.
   * Lets the inference path skip a promise hop per request; registries may leave it out.
   */
  readyServable?(name: string, version?: number): Servable | undefined;
  /** Version statuses in ascending version order; throws NOT_FOUND errors as OVMS does. */
  getStatus(name: string, version?: number): VersionStatus[];
  /** Names of all models (and later pipelines) known to the server, including retired ones. */
  names(): string[];
}
