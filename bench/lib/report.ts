/** Renders the results as Markdown (printed to the terminal and written to bench/results/). */
import { describeMachine, type MachineInfo } from './machine.js';
import type { BenchOptions } from './options.js';
import type { EldResult, MemoryResult, Row, TargetResult } from './results.js';

export interface Report {
  readonly startedAt: string;
  readonly durationSeconds: number;
  readonly command: string;
  readonly options: BenchOptions;
  readonly machine: MachineInfo;
  readonly protoSource: string;
  readonly rows: readonly Row[];
  readonly eld?: EldResult;
  readonly memory: readonly MemoryResult[];
  readonly targets: readonly TargetResult[];
  readonly serverRss?: { readonly afterLoadMB: number; readonly afterBenchMB: number };
}

/** 3 significant digits, no exponent. */
function sig(v: number | undefined): string {
  if (v === undefined || !Number.isFinite(v)) return '–';
  if (v === 0) return '0';
  const digits = Math.max(0, 2 - Math.floor(Math.log10(Math.abs(v))));
  return v.toFixed(Math.min(digits, 4));
}

const ms = (us: number | undefined) => sig(us === undefined ? undefined : us / 1000);
const ratio = (r: { value: number } | undefined) => (r ? `${r.value.toFixed(2)}×` : '');

function scenarioCell(r: Row): string {
  const conn = r.connections ? ` (${r.connections} conns)` : '';
  return `${r.model} · ${r.apiLabel} · C=${r.concurrency}${conn}`;
}

function noteCell(r: Row, foreignLimit: number): string {
  const parts: string[] = [];
  if (r.status === 'n/a') parts.push(`n/a (${r.note ?? 'not implemented yet'})`);
  else if (r.status !== 'ok') parts.push(`${r.status}: ${r.note ?? ''}`);
  else if (r.note) parts.push(r.note);
  const s = r.summary;
  if (s && s.errors > 0) parts.push(`${s.errors} failed requests`);
  if (s && s.maxForeignCores > foreignLimit) parts.push(`* other load ${s.maxForeignCores.toFixed(2)} cores`);
  if (r.addedLatencyUs !== undefined) parts.push(`server-added p50 ${r.addedLatencyUs.toFixed(0)} µs`);
  if (r.ratios['naive-json']) parts.push(`${ratio(r.ratios['naive-json'])} naive JSON.parse`);
  if (r.ratios['variant-off']) parts.push(`${ratio(r.ratios['variant-off'])} same scenario with it off`);
  return parts.join('; ').replace(/\|/g, '\\|');
}

export const FOREIGN_LIMIT = 0.35;

export function mainTable(rows: readonly Row[]): string {
  const lines = [
    '| scenario | server | load gen | req/s | p50 ms | p90 ms | p99 ms | server CPU µs/req | × in-process | × bare transport | notes |',
    '|---|---|---|---:|---:|---:|---:|---:|---:|---:|---|',
  ];
  for (const r of rows) {
    const s = r.summary;
    lines.push(`| ${scenarioCell(r)} | ${r.server} | ${s?.tool ?? ''} | ${sig(s?.reqPerSec)} | ${ms(s?.p50Us)} | ${ms(s?.p90Us)} | ${ms(s?.p99Us)} | ${sig(s?.cpuUsPerReq)} | ${ratio(r.ratios.inproc)} | ${ratio(r.ratios.bare)} | ${noteCell(r, FOREIGN_LIMIT)} |`);
  }
  return lines.join('\n');
}

function targetsTable(targets: readonly TargetResult[]): string {
  const mark = (p: boolean | undefined) => (p === undefined ? '–' : p ? '✓' : '✗');
  return [
    '| target | goal | measured | met | notes |',
    '|---|---|---|:-:|---|',
    ...targets.map((t) => `| ${t.text} | ${t.goal} | ${t.value} | ${mark(t.pass)} | ${(t.note ?? '').replace(/\|/g, '\\|')} |`),
  ].join('\n');
}

function memoryTable(memory: readonly MemoryResult[], serverRss: Report['serverRss']): string {
  const mb = (v: number | undefined) => (v === undefined ? '–' : v.toFixed(1));
  const lines = [
    '| model | API | RSS after load MB | requests | RSS at end MB | peak MB | requests | RSS at end MB | peak MB | growth of peak MB | floor growth MB | notes |',
    '|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|',
    ...memory.map((m) => `| ${m.model} | ${m.api ?? '–'} | ${mb(m.rssLoadedMB)} | ${m.firstRequests ?? '–'} | ${mb(m.rssAfterFirstMB)} | ${mb(m.peakFirstMB)} | ${m.secondRequests ?? '–'} | ${mb(m.rssAfterSecondMB)} | ${mb(m.peakSecondMB)} | ${mb(m.growthMB)} | ${mb(m.floorGrowthMB)} | ${m.status === 'ok' ? (m.note ?? '') : `${m.status}: ${m.note ?? ''}`} |`),
  ];
  lines.push('', 'Peak: the highest resident set of the server process tree sampled every 100 ms with the load running, over the second half of the first phase and over an equally long window at the end of the second. A single sample lands anywhere on the GC sawtooth (with 12 MB tensors it spans ~45 MB), so growth is judged on the peaks. Floor growth: the node:http2 + onnxruntime floor (no API code) over the same requests, as a measure of how much the resident set of any Node server moves there.');
  if (serverRss) lines.push('', `Server with all bench models: RSS ${serverRss.afterLoadMB.toFixed(1)} MB after load, ${serverRss.afterBenchMB.toFixed(1)} MB after the whole run.`);
  return lines.join('\n');
}

function eldLine(eld: EldResult | undefined): string {
  if (!eld) return 'not measured in this run.';
  if (eld.status !== 'ok') return `${eld.scenario}: ${eld.status} (${eld.note ?? ''})`;
  return `${eld.scenario} at ${sig(eld.reqPerSec)} req/s; probe (${eld.probe}, every 10 ms from its own process): p50 ${sig(eld.p50Ms)} ms, p99 **${sig(eld.p99Ms)} ms**, max ${sig(eld.maxMs)} ms over ${eld.probes} probes (${eld.probeErrors} failed).`;
}

export function renderMarkdown(rep: Report): string {
  const o = rep.options;
  return [
    `# tsms benchmark (${o.profile})`,
    '',
    `Run ${rep.startedAt}, ${rep.durationSeconds.toFixed(0)} s: \`${rep.command}\``,
    '',
    `Machine: ${describeMachine(rep.machine)}. Load average at start: ${rep.machine.loadAverage.join(' ')}.`,
    '',
    `${o.repetitions} repetition(s), ${o.warmupSeconds} s warm-up + ${o.seconds} s measured per window; values are medians over repetitions, ratios are taken within each repetition and then the median is shown. The load generator shares the cores with the server.`,
    '',
    mainTable(rep.rows),
    '',
    '## Targets',
    '',
    targetsTable(rep.targets),
    '',
    '## Event-loop responsiveness under load',
    '',
    eldLine(rep.eld),
    '',
    '## Memory (resident set of the server process tree)',
    '',
    memoryTable(rep.memory, rep.serverRss),
    '',
    '## How to read this',
    '',
    '- **× in-process**: tsms req/s ÷ onnxruntime-node run in a closed loop in its own process on the same model file, batch, concurrency and session options (best of the configurations listed as limit rows).',
    '- **× bare transport**: tsms req/s ÷ a bare grpc-js server (identity serializers) or node:http server that reads the same request and answers the same response bytes without decoding or inference, driven by the same load generator at the same concurrency.',
    '- **server-added p50**: at C=1, tsms p50 − bare-transport p50 (same client): what decoding, validation, inference dispatch and encoding add to one request.',
    '- **naive JSON.parse**: a node:http server that `JSON.parse`s the same TFS REST JSON body and flattens it with `.flat(Infinity)` into a Float32Array, then replies the same bytes.',
    '- **server CPU µs/req**: utime+stime of the server process tree from /proc over the measured window ÷ successful requests.',
    `- **\\* other load**: cores busy with processes other than the server, the load generator and the harness during the window (over ${FOREIGN_LIMIT} makes the row unreliable).`,
    '- **event-loop delay proxy**: the p99 latency of a cheap status request sent every 10 ms from a separate process while cnn is under gRPC load; it is at least the time the server loop was blocked, plus one loopback round trip.',
    `- gRPC load: h2load with a pre-framed request (1 connection, C streams) where installed; HTTP: wrk (1 thread, C keep-alive connections). Every scenario is first checked with a real client (grpc-js / fetch) that decodes the response and compares it with onnxruntime's output. Protobuf messages: ${rep.protoSource}.`,
    '',
  ].join('\n');
}
