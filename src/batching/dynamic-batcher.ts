/**
 * Dynamic batching (a tsms extension; Triton and TensorFlow Serving have it, OVMS does not):
 * concurrent requests whose inputs agree in everything but the batch dimension are joined along
 * dim 0, run once, and the outputs are split back by views.
 *
 * What it buys, honestly (research/node-perf.md §2 rule 4): on a 2-core machine a batch of 16
 * computes no faster per item than 16 single runs. The gain is the per-run overhead saved — the
 * worker-thread round trip, onnxruntime's per-call cost, queueing — which matters for small and
 * medium models under many concurrent clients, and not at all for compute-bound ones.
 *
 * How requests are joined:
 * - Batches form while the model is busy: a batch is dispatched when one of the version's
 *   `nireq` run slots is free AND it is full (max_batch_size, or the largest preferred size), or
 *   its first request has waited max_queue_delay_us. So under load requests gather behind the
 *   running batch at no extra delay; an idle server runs a lone request after the delay. A ready
 *   batch is split evenly over the free slots, so every session keeps working.
 * - A model with a dynamic batch dim runs any joined size up to max_batch_size. A model with a
 *   fixed batch B > 1 gets batches padded with zeros to B (clients may then send 1..B); B = 1
 *   models cannot join and run requests singly.
 * - Inputs are copied once into the batch tensor; outputs are views (no copy).
 * - A request cancelled (signal) or past its deadline while queued leaves the queue at once.
 * - A model whose outputs turn out not to be batch-major (dim 0 ≠ the batch) stops joining; the
 *   requests of that batch are run singly and answered normally.
 */
import type { Logger } from 'pino';
import type { DynamicBatchingConfig } from '../config/types.js';
import { type NumericArray, dtypeInfo } from '../core/dtype.js';
import { servingError } from '../core/errors.js';
import { isStringData, type Tensor, type TensorMap, type TensorSpec } from '../core/tensor.js';
import { handOver } from '../runtime/owned-buffers.js';

/** The part of a loaded model the batcher drives. */
export interface BatchTarget {
  readonly inputs: readonly TensorSpec[];
  readonly outputs: readonly TensorSpec[];
  /** Concurrent runs the model admits (its nireq). */
  readonly nireq?: number;
  /**
   * Sessions that really run in parallel. Joined batches are formed while min(nireq, streams) runs
   * are busy: an inline model admits 16 runs (nireq) but executes one at a time, so only one slot.
   */
  readonly streams?: number;
  run(inputs: TensorMap, outputNames: readonly string[], signal?: AbortSignal): Promise<TensorMap>;
}

export interface BatchRunOptions {
  readonly signal?: AbortSignal;
  /** Date.now() milliseconds after which a still-queued request is dropped (DEADLINE_EXCEEDED). */
  readonly deadline?: number;
}

type Mode = { kind: 'dynamic'; capacity: number } | { kind: 'fixed'; capacity: number } | { kind: 'off'; reason: string };

interface Item {
  readonly inputs: TensorMap;
  readonly outputNames: readonly string[];
  readonly rows: number;
  readonly key: string;
  readonly deadline: number | undefined;
  resolve(out: TensorMap): void;
  reject(err: unknown): void;
  /** Detaches abort/deadline watchers once the item leaves the queue. */
  release(): void;
  group?: Group;
}

interface Group {
  readonly key: string;
  readonly items: Item[];
  rows: number;
  readonly firstAt: number;
}

export class DynamicBatcher {
  /** What clients see: a fixed batch B > 1 becomes -1 (any size up to B). */
  readonly inputs: readonly TensorSpec[];
  readonly outputs: readonly TensorSpec[];
  readonly #model: BatchTarget;
  readonly #logger: Logger | undefined;
  readonly #slots: number;
  readonly #delayMs: number;
  readonly #readyRows: number;
  #mode: Mode;
  #groups: Group[] = [];
  #inFlight = 0;
  #timer: NodeJS.Timeout | undefined;
  #timerAt = Infinity;
  #pumpScheduled = false;

  constructor(model: BatchTarget, config: DynamicBatchingConfig, logger?: Logger) {
    this.#model = model;
    this.#logger = logger;
    this.#slots = Math.max(1, Math.min(model.nireq ?? 1, model.streams ?? model.nireq ?? 1));
    this.#delayMs = config.maxQueueDelayUs / 1000;
    this.#mode = modeOf(model, config);
    const capacity = this.#mode.kind === 'off' ? 1 : this.#mode.capacity;
    const preferred = config.preferredBatchSizes.filter((p) => p <= capacity);
    this.#readyRows = this.#mode.kind === 'dynamic' && preferred.length > 0 ? preferred[preferred.length - 1]! : capacity;
    const anyBatch = (specs: readonly TensorSpec[]) => specs.map((s) => (s.shape.length > 0 ? { ...s, shape: [-1, ...s.shape.slice(1)] } : s));
    this.inputs = this.#mode.kind === 'fixed' ? anyBatch(model.inputs) : model.inputs;
    this.outputs = this.#mode.kind === 'fixed' ? anyBatch(model.outputs) : model.outputs;
    if (this.#mode.kind === 'off') logger?.info({ reason: this.#mode.reason }, 'dynamic batching configured but requests run singly');
    else logger?.info({ mode: this.#mode.kind, maxBatch: capacity, delayUs: config.maxQueueDelayUs, slots: this.#slots }, 'dynamic batching enabled');
  }

  /** Whether requests can be joined at all (false: every request runs as it came). */
  get joining(): boolean {
    return this.#mode.kind !== 'off';
  }

  /** Requests waiting to be joined. */
  get queued(): number {
    let n = 0;
    for (const g of this.#groups) n += g.items.length;
    return n;
  }

  /** Runs one (validated) request, joined with others when possible. */
  run(inputs: TensorMap, outputNames: readonly string[], options: BatchRunOptions = {}): Promise<TensorMap> {
    const { signal, deadline } = options;
    if (signal?.aborted) return Promise.reject(servingError('REQUEST_CANCELLED'));
    if (deadline !== undefined && Date.now() >= deadline) return Promise.reject(servingError('DEADLINE_EXCEEDED'));
    const mode = this.#mode;
    const rows = batchOf(inputs);
    if (mode.kind === 'off' || rows === undefined) return this.#model.run(inputs, outputNames, signal);
    if (mode.kind === 'fixed' && rows > mode.capacity) {
      return Promise.reject(servingError('INVALID_BATCH_SIZE', `Expected: at most ${mode.capacity}; Actual: ${rows}`));
    }
    if (rows >= mode.capacity && mode.kind === 'dynamic') return this.#direct(inputs, outputNames, signal);

    return new Promise<TensorMap>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const onAbort = () => this.#drop(item, servingError('REQUEST_CANCELLED'));
      const item: Item = {
        inputs, outputNames, rows, deadline, resolve, reject,
        key: keyOf(inputs, outputNames),
        release: () => {
          signal?.removeEventListener('abort', onAbort);
          if (timer) clearTimeout(timer);
        },
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      if (deadline !== undefined) timer = setTimeout(() => this.#drop(item, servingError('DEADLINE_EXCEEDED')), deadline - Date.now());
      this.#enqueue(item);
    });
  }

  /** A request that fills a batch alone: no joining, but it still takes one of the run slots. */
  async #direct(inputs: TensorMap, outputNames: readonly string[], signal?: AbortSignal): Promise<TensorMap> {
    this.#inFlight++;
    try {
      return await this.#model.run(inputs, outputNames, signal);
    } finally {
      this.#inFlight--;
      this.#schedulePump();
    }
  }

  #enqueue(item: Item): void {
    const capacity = (this.#mode as { capacity: number }).capacity;
    let group = this.#groups.find((g) => g.key === item.key && g.rows + item.rows <= capacity);
    if (!group) {
      group = { key: item.key, items: [], rows: 0, firstAt: performance.now() };
      this.#groups.push(group);
    }
    group.items.push(item);
    group.rows += item.rows;
    item.group = group;
    // Not at once: requests that arrive in the same event-loop turn get the chance to join.
    this.#schedulePump();
  }

  #drop(item: Item, err: unknown): void {
    const group = item.group;
    if (!group) return;
    const i = group.items.indexOf(item);
    if (i < 0) return;
    group.items.splice(i, 1);
    group.rows -= item.rows;
    item.group = undefined;
    if (group.items.length === 0) this.#groups = this.#groups.filter((g) => g !== group);
    item.release();
    item.reject(err);
  }

  #schedulePump(): void {
    if (this.#pumpScheduled) return;
    this.#pumpScheduled = true;
    setImmediate(() => {
      this.#pumpScheduled = false;
      this.#pump();
    });
  }

  #pump(): void {
    const now = performance.now();
    while (this.#inFlight < this.#slots) {
      const group = this.#groups.find((g) => g.rows >= this.#readyRows || now - g.firstAt >= this.#delayMs);
      if (!group) break;
      this.#groups = this.#groups.filter((g) => g !== group);
      // Several free slots share the batch: one big batch on one session would leave the others
      // idle, halving a compute-bound model's throughput on 2 streams.
      for (const part of split(group.items, this.#slots - this.#inFlight)) void this.#launch(part);
    }
    // Wake up when the oldest waiting batch reaches its delay (a finished run pumps too).
    if (this.#groups.length === 0 || this.#inFlight >= this.#slots) return this.#clearTimer();
    const due = Math.min(...this.#groups.map((g) => g.firstAt + this.#delayMs));
    if (this.#timer && due >= this.#timerAt) return;
    this.#clearTimer();
    this.#timerAt = due;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#timerAt = Infinity;
      this.#pump();
    }, Math.max(0, due - now));
  }

  #clearTimer(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#timerAt = Infinity;
  }

  async #launch(batch: readonly Item[]): Promise<void> {
    this.#inFlight++;
    const now = Date.now();
    const items: Item[] = [];
    for (const item of batch) {
      item.release();
      item.group = undefined;
      if (item.deadline !== undefined && now >= item.deadline) item.reject(servingError('DEADLINE_EXCEEDED'));
      else items.push(item);
    }
    try {
      if (items.length > 0) await this.#runJoined(items);
    } finally {
      this.#inFlight--;
      this.#schedulePump();
    }
  }

  async #runJoined(items: Item[]): Promise<void> {
    const mode = this.#mode;
    const rows = items.reduce((n, i) => n + i.rows, 0);
    const runRows = mode.kind === 'fixed' ? mode.capacity : rows;
    const first = items[0]!;
    if (items.length === 1 && runRows === rows) {
      // Nothing to join: the request runs as it came.
      await this.#model.run(first.inputs, first.outputNames).then(first.resolve, first.reject);
      return;
    }
    let outputs: TensorMap;
    try {
      outputs = await this.#model.run(joinInputs(items, runRows), first.outputNames);
    } catch (err) {
      for (const item of items) item.reject(err);
      return;
    }
    const notBatchMajor = [...outputs].find(([, t]) => t.shape[0] !== runRows);
    if (notBatchMajor) {
      this.#mode = { kind: 'off', reason: `output ${notBatchMajor[0]} has shape [${notBatchMajor[1].shape.join(',')}]: dim 0 is not the batch` };
      this.#logger?.warn({ reason: this.#mode.reason }, 'dynamic batching turned off for this model version; requests run singly');
      await Promise.all(items.map((item) => this.#model.run(item.inputs, item.outputNames).then(item.resolve, item.reject)));
      return;
    }
    let offset = 0;
    for (const item of items) {
      const out: TensorMap = new Map();
      for (const [name, t] of outputs) out.set(name, sliceRows(t, offset, item.rows));
      offset += item.rows;
      item.resolve(out);
    }
  }
}

/** `items` in order, cut into at most `parts` runs of about equal rows. */
function split(items: readonly Item[], parts: number): Item[][] {
  const n = Math.max(1, Math.min(parts, items.length));
  if (n === 1) return [[...items]];
  const total = items.reduce((sum, i) => sum + i.rows, 0);
  const target = Math.ceil(total / n);
  const out: Item[][] = [[]];
  let rows = 0;
  for (const item of items) {
    if (rows >= target && out.length < n) {
      out.push([]);
      rows = 0;
    }
    out[out.length - 1]!.push(item);
    rows += item.rows;
  }
  return out;
}

function modeOf(model: BatchTarget, config: DynamicBatchingConfig): Mode {
  if (model.inputs.length === 0) return { kind: 'off', reason: 'the model has no inputs' };
  if (model.inputs.some((s) => s.shape.length === 0)) return { kind: 'off', reason: 'an input is a scalar (no batch dimension)' };
  const batches = new Set(model.inputs.map((s) => s.shape[0]!));
  if (batches.size !== 1) return { kind: 'off', reason: 'inputs disagree on dimension 0' };
  const b = [...batches][0]!;
  if (b < 0) return { kind: 'dynamic', capacity: config.maxBatchSize };
  if (b === 1) return { kind: 'off', reason: 'the model has a fixed batch of 1 (set batch_size or shape to a larger batch to join requests)' };
  return { kind: 'fixed', capacity: b };
}

/** dim 0 shared by every input, or undefined when they differ. */
function batchOf(inputs: TensorMap): number | undefined {
  let rows: number | undefined;
  for (const t of inputs.values()) {
    const b = t.shape[0];
    if (b === undefined || (rows !== undefined && b !== rows)) return undefined;
    rows = b;
  }
  return rows;
}

/** Requests join only when everything but dim 0 agrees (and they ask for the same outputs). */
function keyOf(inputs: TensorMap, outputNames: readonly string[]): string {
  let key = outputNames.join('\u0000');
  for (const [name, t] of inputs) key += `\u0001${name}\u0002${t.dtype}\u0002${t.shape.slice(1).join(',')}`;
  return key;
}

/** One tensor per input holding every item's rows in order (zero rows pad up to `runRows`). One copy. */
function joinInputs(items: readonly Item[], runRows: number): TensorMap {
  const joined: TensorMap = new Map();
  for (const [name, t0] of items[0]!.inputs) {
    const rowShape = t0.shape.slice(1);
    if (isStringData(t0.data)) {
      const data: Uint8Array[] = [];
      for (const item of items) data.push(...(item.inputs.get(name)!.data as readonly Uint8Array[]));
      const rowElems = rowShape.reduce((a, b) => a * b, 1);
      while (data.length < runRows * rowElems) data.push(new Uint8Array(0));
      joined.set(name, { dtype: t0.dtype, shape: [runRows, ...rowShape], data });
      continue;
    }
    const rowElems = rowShape.reduce((a, b) => a * b, 1);
    const out = new (dtypeInfo(t0.dtype).array!)(runRows * rowElems);
    let offset = 0;
    for (const item of items) {
      const src = item.inputs.get(name)!.data as NumericArray;
      (out as Float32Array).set(src as Float32Array, offset);
      offset += src.length;
    }
    handOver(out.buffer);
    joined.set(name, { dtype: t0.dtype, shape: [runRows, ...rowShape], data: out });
  }
  return joined;
}

/** Rows [start, start + rows) of a batch-major tensor, as a view. */
function sliceRows(t: Tensor, start: number, rows: number): Tensor {
  const rowElems = t.shape.slice(1).reduce((a, b) => a * b, 1);
  const shape = [rows, ...t.shape.slice(1)];
  if (isStringData(t.data)) return { dtype: t.dtype, shape, data: t.data.slice(start * rowElems, (start + rows) * rowElems) };
  return { dtype: t.dtype, shape, data: (t.data as Float32Array).subarray(start * rowElems, (start + rows) * rowElems) };
}
