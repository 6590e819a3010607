/**
 * OVMS's serving metrics (SPEC §6.5, OVMS docs/metrics.md) for every protocol front end, plus
 * process CPU and memory, rendered by prom-client at GET /metrics.
 *
 * Series and labels follow OVMS:
 *   ovms_requests_success / _fail   counter   api, interface, method, name, version
 *                                             (no version for GetModelStatus and ModelReady)
 *   ovms_request_time_us            histogram interface, name, version   (inference requests)
 *   ovms_inference_time_us          histogram name, version   (time inside the runtime session)
 *   ovms_wait_for_infer_req_time_us histogram name, version   (time queued for a nireq slot)
 *   ovms_current_requests           gauge     name, version   (inference requests in progress)
 *   ovms_streams, ovms_infer_req_queue_size (= nireq), ovms_infer_req_active   gauges, name, version
 *
 * Cost: the front ends look cells up once per request through a WeakMap keyed by the servable
 * object and update plain numbers (cells.ts); no label object is built per request.
 */
import { collectDefaultMetrics, Registry } from 'prom-client';
import { ModelState, type InferObserver, type Servable, type ServableRegistry } from '../core/servable.js';
import type { CounterCell, GaugeCell, HistogramCell } from './cells.js';
import { OVMS_LATENCY_BUCKETS_US } from './cells.js';
import { CounterFamily, GaugeFamily, HistogramFamily, type Labels } from './families.js';
import { METRIC, type MetricFamilyName } from './metric-names.js';

export type ApiName = 'TensorFlowServing' | 'KServe';
export type InterfaceName = 'gRPC' | 'REST';
export type MethodName = 'Predict' | 'GetModelMetadata' | 'GetModelStatus' | 'ModelInfer' | 'ModelMetadata' | 'ModelReady';

/** Live execution figures of a loaded version (src/runtime/engine.ts LoadedModel's optional fields). */
export interface RuntimeFigures {
  readonly streams?: number;
  readonly nireq?: number;
  readonly active?: number;
}

export interface ServingMetricsOptions {
  readonly families: ReadonlySet<MetricFamilyName>;
  /** Where the gauges read model versions from at scrape time. */
  readonly registry: ServableRegistry;
  /** The runtime figures of a servable, if it has any (model versions do, pipelines don't). */
  readonly runtimeOf?: (servable: Servable) => RuntimeFigures | undefined;
}

/** A counter that nobody exports: what a disabled family hands out, so callers never branch. */
const DETACHED_COUNTER: CounterCell = { value: 0, inc() {} } as CounterCell;

/** The series of one model version shared by every endpoint (inference timings, current requests). */
class VersionSeries {
  readonly current: GaugeCell | undefined;
  /** Passed as InferOptions.observe: the runtime reports the queue wait and the run time. */
  readonly observe: InferObserver | undefined;

  constructor(current: GaugeCell | undefined, wait: HistogramCell | undefined, inference: HistogramCell | undefined) {
    this.current = current;
    this.observe = wait || inference
      ? (waitUs: number, inferenceUs: number) => {
        wait?.observe(waitUs);
        inference?.observe(inferenceUs);
      }
      : undefined;
  }
}

/** What one request updates: found once per (servable, endpoint), then only numbers change. */
export class RequestSeries {
  constructor(
    private readonly successCell: CounterCell,
    private readonly failCell: CounterCell,
    private readonly requestTime: HistogramCell | undefined,
    private readonly version: VersionSeries | undefined,
  ) {}

  /** For InferOptions.observe (undefined when neither timing family is enabled). */
  get observe(): InferObserver | undefined {
    return this.version?.observe;
  }

  /** An inference request starts (ovms_current_requests). Pair with succeeded/failed. */
  begin(): void {
    const c = this.version?.current;
    if (c) c.value++;
  }

  /** `startedMs` from performance.now() at the request's arrival. */
  succeeded(startedMs: number): void {
    this.successCell.inc();
    this.requestTime?.observe((performance.now() - startedMs) * 1000);
  }

  /** A call that was answered without an inference (metadata, status, ready). */
  answered(): void {
    this.successCell.inc();
  }

  failed(): void {
    this.failCell.inc();
  }

  /** An inference request ends (after succeeded or failed). */
  end(): void {
    const c = this.version?.current;
    if (c) c.value--;
  }
}

/** One (api, interface, method) of one front end. */
export class EndpointMetrics {
  private readonly byServable = new WeakMap<object, RequestSeries>();
  private readonly byName = new Map<string, RequestSeries>();

  constructor(
    private readonly metrics: ServingMetrics,
    readonly api: ApiName,
    readonly iface: InterfaceName,
    readonly method: MethodName,
  ) {}

  /** The series of a request on `servable` (a model version or a pipeline). */
  of(servable: Servable): RequestSeries {
    let s = this.byServable.get(servable);
    if (!s) {
      s = this.metrics.requestSeries(this, servable.name, servable.version);
      this.byServable.set(servable, s);
    }
    return s;
  }

  /** For methods OVMS labels without a version (GetModelStatus, ModelReady). */
  ofName(name: string): RequestSeries {
    let s = this.byName.get(name);
    if (!s) {
      s = this.metrics.requestSeries(this, name, undefined);
      this.byName.set(name, s);
    }
    return s;
  }
}

export class ServingMetrics {
  readonly registry = new Registry();
  private readonly success: CounterFamily | undefined;
  private readonly fail: CounterFamily | undefined;
  private readonly requestTime: HistogramFamily | undefined;
  private readonly inferenceTime: HistogramFamily | undefined;
  private readonly waitTime: HistogramFamily | undefined;
  private readonly current: GaugeFamily | undefined;
  private readonly streams: GaugeFamily | undefined;
  private readonly queueSize: GaugeFamily | undefined;
  private readonly active: GaugeFamily | undefined;
  private readonly versions = new Map<string, VersionSeries>();
  private readonly endpoints = new Map<string, EndpointMetrics>();

  constructor(private readonly opts: ServingMetricsOptions) {
    const on = (name: MetricFamilyName) => opts.families.has(name);
    const reg = this.registry;
    const buckets = OVMS_LATENCY_BUCKETS_US;
    // Help texts are OVMS's.
    this.success = on(METRIC.REQUESTS_SUCCESS) ? new CounterFamily(METRIC.REQUESTS_SUCCESS, 'Number of successful requests to a model or a DAG.').register(reg) : undefined;
    this.fail = on(METRIC.REQUESTS_FAIL) ? new CounterFamily(METRIC.REQUESTS_FAIL, 'Number of failed requests to a model or a DAG.').register(reg) : undefined;
    this.requestTime = on(METRIC.REQUEST_TIME) ? new HistogramFamily(METRIC.REQUEST_TIME, 'Processing time of requests to a model or a DAG.', buckets).register(reg) : undefined;
    this.inferenceTime = on(METRIC.INFERENCE_TIME) ? new HistogramFamily(METRIC.INFERENCE_TIME, 'Inference execution time in the OpenVINO backend.', buckets).register(reg) : undefined;
    this.waitTime = on(METRIC.WAIT_FOR_INFER_REQ_TIME) ? new HistogramFamily(METRIC.WAIT_FOR_INFER_REQ_TIME, 'Request waiting time in the scheduling queue.', buckets).register(reg) : undefined;
    this.current = on(METRIC.CURRENT_REQUESTS) ? new GaugeFamily(METRIC.CURRENT_REQUESTS, 'Number of inference requests currently in process.').register(reg) : undefined;
    this.streams = on(METRIC.STREAMS) ? new GaugeFamily(METRIC.STREAMS, 'Number of OpenVINO execution streams.').register(reg) : undefined;
    this.queueSize = on(METRIC.INFER_REQ_QUEUE_SIZE) ? new GaugeFamily(METRIC.INFER_REQ_QUEUE_SIZE, 'Inference request queue size (nireq).').register(reg) : undefined;
    this.active = on(METRIC.INFER_REQ_ACTIVE) ? new GaugeFamily(METRIC.INFER_REQ_ACTIVE, 'Number of currently consumed inference request from the processing queue.').register(reg) : undefined;

    // The runtime gauges are read from the loaded versions when scraped, not pushed.
    const runtimeGauges = [this.streams, this.queueSize, this.active].filter((g) => g !== undefined);
    if (runtimeGauges.length > 0) {
      let refresh: Promise<void> | undefined;
      // One refresh serves all three families of the same scrape.
      const once = () => (refresh ??= this.refreshRuntimeGauges().finally(() => setImmediate(() => (refresh = undefined))));
      for (const g of runtimeGauges) g.beforeCollect = once;
    }
    // Process CPU, memory, file descriptors, event-loop lag and heap (prom-client's set).
    collectDefaultMetrics({ register: reg });
  }

  /** One front end's (api, interface, method); call once at setup and keep it. */
  endpoint(api: ApiName, iface: InterfaceName, method: MethodName): EndpointMetrics {
    const key = `${api}/${iface}/${method}`;
    let e = this.endpoints.get(key);
    if (!e) this.endpoints.set(key, (e = new EndpointMetrics(this, api, iface, method)));
    return e;
  }

  /** The Prometheus text exposition of every enabled family. */
  async render(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }

  /** @internal EndpointMetrics builds its per-servable series through here. */
  requestSeries(endpoint: EndpointMetrics, name: string, version: number | undefined): RequestSeries {
    const v = version === undefined ? undefined : String(version);
    const labels: Labels = {
      api: endpoint.api, interface: endpoint.iface, method: endpoint.method, name, ...(v === undefined ? {} : { version: v }),
    };
    const inference = endpoint.method === 'Predict' || endpoint.method === 'ModelInfer';
    return new RequestSeries(
      this.success?.cell(labels) ?? DETACHED_COUNTER,
      this.fail?.cell(labels) ?? DETACHED_COUNTER,
      inference && v !== undefined ? this.requestTime?.cell({ interface: endpoint.iface, name, version: v }) : undefined,
      inference && v !== undefined ? this.versionSeries(name, v) : undefined,
    );
  }

  private versionSeries(name: string, version: string): VersionSeries {
    const key = `${name}\u0000${version}`;
    let s = this.versions.get(key);
    if (!s) {
      const labels = { name, version };
      s = new VersionSeries(this.current?.cell(labels), this.waitTime?.cell(labels), this.inferenceTime?.cell(labels));
      this.versions.set(key, s);
    }
    return s;
  }

  /** Sets ovms_streams / _infer_req_queue_size / _infer_req_active from every AVAILABLE version. */
  private async refreshRuntimeGauges(): Promise<void> {
    const { registry, runtimeOf } = this.opts;
    const gauges = [this.streams, this.queueSize, this.active];
    for (const g of gauges) g?.reset();
    if (!runtimeOf) return;
    for (const name of registry.names()) {
      let statuses;
      try {
        statuses = registry.getStatus(name);
      } catch {
        continue;
      }
      for (const status of statuses) {
        if (status.state !== ModelState.AVAILABLE) continue;
        let figures: RuntimeFigures | undefined;
        try {
          figures = runtimeOf(await registry.getServable(name, status.version));
        } catch {
          continue; // retired between the listing and now
        }
        if (!figures) continue;
        const labels = { name, version: String(status.version) };
        if (this.streams && figures.streams !== undefined) this.streams.cell(labels).value = figures.streams;
        if (this.queueSize && figures.nireq !== undefined) this.queueSize.cell(labels).value = figures.nireq;
        if (this.active && figures.active !== undefined) this.active.cell(labels).value = figures.active;
      }
    }
  }
}
