/**
 * Metric families whose series are cells (cells.ts), registered in a prom-client Registry.
 *
 * prom-client renders any registered object that has `name`, `help`, `type` and `get()`
 * returning `{values: [{labels, value, metricName?}]}` — the same contract its own metric
 * classes follow — so the exposition format (escaping, HELP/TYPE lines, content type) stays
 * prom-client's while the request path only touches plain numbers.
 */
import type { Metric, Registry } from 'prom-client';
import { CounterCell, GaugeCell, HistogramCell } from './cells.js';

export type Labels = Readonly<Record<string, string>>;

interface MetricValue {
  labels: Record<string, string | number>;
  value: number;
  metricName?: string;
}

interface Series<C> {
  readonly labels: Labels;
  readonly cell: C;
}

abstract class CellFamily<C> {
  readonly aggregator = 'sum';
  abstract readonly type: 'counter' | 'gauge' | 'histogram';
  protected readonly series = new Map<string, Series<C>>();

  constructor(readonly name: string, readonly help: string) {}

  /** The cell for a label set, created on first use (zero). Callers keep it: this is not per request. */
  cell(labels: Labels): C {
    const key = seriesKey(labels);
    let s = this.series.get(key);
    if (!s) {
      s = { labels: Object.freeze({ ...labels }), cell: this.create() };
      this.series.set(key, s);
    }
    return s.cell;
  }

  /** Drops every series whose labels match all of `match` (e.g. a model version that is gone). */
  remove(match: Labels): void {
    for (const [key, s] of this.series) {
      if (Object.entries(match).every(([k, v]) => s.labels[k] === v)) this.series.delete(key);
    }
  }

  reset(): void {
    this.series.clear();
  }

  /** prom-client's read side: called when /metrics is rendered. */
  async get(): Promise<{ name: string; help: string; type: string; aggregator: string; values: MetricValue[] }> {
    await this.beforeCollect?.();
    const values: MetricValue[] = [];
    for (const s of this.series.values()) this.export(s, values);
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }

  /** Optional refresh before a scrape (gauges read live state here). */
  beforeCollect?: () => void | Promise<void>;

  protected abstract create(): C;
  protected abstract export(s: Series<C>, out: MetricValue[]): void;

  register(registry: Registry): this {
    registry.registerMetric(this as unknown as Metric);
    return this;
  }
}

export class CounterFamily extends CellFamily<CounterCell> {
  readonly type = 'counter';
  protected create(): CounterCell {
    return new CounterCell();
  }
  protected export(s: Series<CounterCell>, out: MetricValue[]): void {
    out.push({ labels: { ...s.labels }, value: s.cell.value });
  }
}

export class GaugeFamily extends CellFamily<GaugeCell> {
  readonly type = 'gauge';
  protected create(): GaugeCell {
    return new GaugeCell();
  }
  protected export(s: Series<GaugeCell>, out: MetricValue[]): void {
    out.push({ labels: { ...s.labels }, value: s.cell.value });
  }
}

export class HistogramFamily extends CellFamily<HistogramCell> {
  readonly type = 'histogram';

  constructor(name: string, help: string, private readonly bounds: readonly number[]) {
    super(name, help);
  }

  protected create(): HistogramCell {
    return new HistogramCell(this.bounds);
  }

  protected export(s: Series<HistogramCell>, out: MetricValue[]): void {
    const { cell, labels } = s;
    let cumulative = 0;
    for (let i = 0; i < this.bounds.length; i++) {
      cumulative += cell.counts[i]!;
      out.push({ metricName: `${this.name}_bucket`, labels: { ...labels, le: this.bounds[i]! }, value: cumulative });
    }
    out.push({ metricName: `${this.name}_bucket`, labels: { ...labels, le: '+Inf' }, value: cell.count });
    out.push({ metricName: `${this.name}_sum`, labels: { ...labels }, value: cell.sum });
    out.push({ metricName: `${this.name}_count`, labels: { ...labels }, value: cell.count });
  }
}

/** A stable key for a label set (label names sorted, values escaped by the separator choice). */
function seriesKey(labels: Labels): string {
  return Object.keys(labels).sort().map((k) => `${k}\u0000${labels[k]}`).join('\u0001');
}
