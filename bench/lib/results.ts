/** The result model: rows of measurements per repetition, summarised into medians and ratios. */
import type { Measurement } from './measure.js';
import { median } from './stats.js';

export type RowKind = 'tsms' | 'bare' | 'naive-json' | 'floor' | 'inproc';
export type RowStatus = 'ok' | 'n/a' | 'error' | 'skipped';

export interface Row {
  readonly key: string;
  readonly kind: RowKind;
  readonly model: string;
  /** API name for tsms / bare rows; 'in-process' for inproc. */
  readonly api: string;
  readonly apiLabel: string;
  readonly concurrency: number;
  readonly connections?: number;
  readonly variant: string;
  /** What this row is, for people ("tsms", "limit: bare grpc-js", ...). */
  readonly server: string;
  status: RowStatus;
  note?: string;
  /** One measurement per repetition (undefined where a repetition could not run it). */
  readonly reps: (Measurement | undefined)[];
  summary?: Summary;
  ratios: Partial<Record<'inproc' | 'bare' | 'naive-json' | 'variant-off', Ratio>>;
  /** gRPC rows: bytes of DATA per response (framed reply); h2load's count is checked against it. */
  expectedResponseBytes?: number;
  /** tsms p50 minus the bare limit's p50 at the same concurrency (C=1 rows), µs, median of reps. */
  addedLatencyUs?: number;
}

export interface Summary {
  readonly tool: string;
  readonly reqPerSec: number;
  readonly p50Us: number;
  readonly p90Us: number;
  readonly p99Us: number;
  readonly cpuUsPerReq: number;
  readonly errors: number;
  readonly maxForeignCores: number;
  readonly responseBytesPerRequest?: number;
  readonly repetitions: number;
}

export interface Ratio {
  /** Median of the per-repetition ratios. */
  readonly value: number;
  readonly perRep: readonly number[];
  /** Which limit row(s) it was taken against. */
  readonly against: string;
}

export function summarize(reps: readonly (Measurement | undefined)[]): Summary | undefined {
  const ms = reps.filter((m): m is Measurement => m !== undefined);
  if (ms.length === 0) return undefined;
  const pick = (f: (m: Measurement) => number) => median(ms.map(f));
  const bytes = ms.map((m) => m.responseBytesPerRequest).filter((b): b is number => b !== undefined && Number.isFinite(b));
  return {
    tool: [...new Set(ms.map((m) => m.tool))].join('+'),
    reqPerSec: pick((m) => m.reqPerSec),
    p50Us: pick((m) => m.p50Us),
    p90Us: pick((m) => m.p90Us),
    p99Us: pick((m) => m.p99Us),
    cpuUsPerReq: pick((m) => m.cpuUsPerReq),
    errors: ms.reduce((s, m) => s + m.errors, 0),
    maxForeignCores: Math.max(...ms.map((m) => m.foreignCores)),
    responseBytesPerRequest: bytes.length ? median(bytes) : undefined,
    repetitions: ms.length,
  };
}

export interface EldResult {
  readonly scenario: string;
  readonly status: RowStatus;
  readonly note?: string;
  readonly probe?: string;
  readonly reqPerSec?: number;
  readonly probes?: number;
  readonly probeErrors?: number;
  readonly p50Ms?: number;
  readonly p99Ms?: number;
  readonly maxMs?: number;
}

export interface MemoryResult {
  readonly model: string;
  readonly status: RowStatus;
  readonly note?: string;
  readonly api?: string;
  readonly rssLoadedMB?: number;
  readonly firstRequests?: number;
  readonly rssAfterFirstMB?: number;
  /** Highest RSS sampled (every 100 ms) in the second half of the first phase. */
  readonly peakFirstMB?: number;
  readonly secondRequests?: number;
  readonly rssAfterSecondMB?: number;
  /** Highest RSS sampled in a window as long as the first one's, at the end of the second phase. */
  readonly peakSecondMB?: number;
  /** peakSecondMB - peakFirstMB: single samples land anywhere on the GC sawtooth. */
  readonly growthMB?: number;
  /** The same growth for the node:http2 + onnxruntime floor over the same requests (gRPC only). */
  readonly floorGrowthMB?: number;
  readonly errors?: number;
}

export interface TargetResult {
  readonly id: string;
  readonly text: string;
  readonly goal: string;
  readonly value: string;
  /** undefined = could not be judged (scenario n/a). */
  readonly pass: boolean | undefined;
  readonly note?: string;
}
