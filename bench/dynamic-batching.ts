#!/usr/bin/env node
/**
 * `node dist/bench/dynamic-batching.js [--seconds 5] [--reps 2]`: what dynamic batching does for
 * 16 concurrent clients sending batch-1 TFS gRPC requests (h2load: 16 connections × 1 stream),
 * with and without `dynamic_batching`, on models of three kinds:
 *
 * - `tiny`   y = x + 1, x [batch, 10]: the transport is the whole cost, inference runs inline;
 * - `mlp`    4 × (MatMul 512×512 + Relu), x [batch, 512] (bench/lib/models.ts, also the main bench's
 *            batching row): at batch 1 each run streams 4 MB of weights for 2 MFLOP (memory-bound),
 *            so joined runs reuse them — a real compute gain;
 * - `conv`   3 × Conv3×3 (32 channels) on x [batch, 3, 64, 64]: compute-bound, where batching
 *            adds no compute throughput on 2 cores (research/node-perf.md §2 rule 4).
 *
 * Same server process for both variants (two model names on the same file), interleaved per
 * repetition; the ratio is taken within a repetition. Prints a Markdown table and writes it to
 * bench/results/dynamic-batching.md.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { buildOnnxModel, type NodeSpec } from '../src/runtime/onnx/model-builder.js';
import { frame } from './lib/codec/grpc-frame.js';
import { encodePredictRequest, TFS_PREDICT_PATH } from './lib/codec/tfs.js';
import { h2loadGenerator } from './lib/loadgen/h2load.js';
import { GRPC_HEADERS } from './lib/loadgen/types.js';
import { MLP_WIDTH, mlpOnnx } from './lib/models.js';
import { resultsDir } from './lib/paths.js';
import { startTsms } from './lib/servers.js';

const { values } = parseArgs({ options: { seconds: { type: 'string', default: '5' }, reps: { type: 'string', default: '2' } } });
const seconds = Number(values.seconds);
const reps = Number(values.reps);
const log = (msg: string) => process.stderr.write(`[batching-bench] ${msg}\n`);

function seeded(n: number, seed: number, scale: number): Uint8Array {
  let s = seed;
  const a = Float32Array.from({ length: n }, () => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return (s / 2147483648 - 0.5) * scale;
  });
  return new Uint8Array(a.buffer);
}

interface Model { readonly name: string; readonly bytes: Uint8Array; readonly shape: number[] }

const models: Model[] = [
  {
    name: 'tiny',
    shape: [1, 10],
    bytes: buildOnnxModel({
      inputs: [{ name: 'x', dtype: 'FP32', shape: ['batch', 10] }],
      outputs: [{ name: 'y', dtype: 'FP32', shape: ['batch', 10] }],
      initializers: [{ name: 'one', dtype: 'FP32', shape: [1], values: [1] }],
      nodes: [{ op: 'Add', inputs: ['x', 'one'], outputs: ['y'] }],
    }),
  },
  { name: 'mlp', shape: [1, MLP_WIDTH], bytes: mlpOnnx() },
  (() => {
    const nodes: NodeSpec[] = [];
    const initializers = [];
    let prev = 'x';
    let channels = 3;
    for (let i = 0; i < 3; i++) {
      initializers.push({ name: `k${i}`, dtype: 'FP32' as const, shape: [32, channels, 3, 3], values: seeded(32 * channels * 9, i + 7, 0.2) });
      nodes.push({ op: 'Conv', inputs: [prev, `k${i}`], outputs: [`c${i}`], attributes: { pads: [1, 1, 1, 1] } }, { op: 'Relu', inputs: [`c${i}`], outputs: [`r${i}`] });
      prev = `r${i}`;
      channels = 32;
    }
    nodes.push({ op: 'GlobalAveragePool', inputs: [prev], outputs: ['y'] });
    return {
      name: 'conv', shape: [1, 3, 64, 64],
      bytes: buildOnnxModel({ inputs: [{ name: 'x', dtype: 'FP32', shape: ['batch', 3, 64, 64] }], outputs: [{ name: 'y', dtype: 'FP32', shape: ['batch', 32, 1, 1] }], initializers, nodes }),
    };
  })(),
];

const work = mkdtempSync(path.join(tmpdir(), 'tsms-batching-bench-'));
const config = { model_config_list: [] as { config: Record<string, unknown> }[] };
const bodies = new Map<string, string>();
for (const m of models) {
  const dir = path.join(work, 'models', m.name, '1');
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'model.onnx'), m.bytes);
  const base = path.dirname(dir);
  config.model_config_list.push({ config: { name: m.name, base_path: base } });
  config.model_config_list.push({ config: { name: `${m.name}_batched`, base_path: base, dynamic_batching: { max_batch_size: 16, max_queue_delay_us: 500 } } });
  for (const name of [m.name, `${m.name}_batched`]) {
    const n = m.shape.reduce((a, b) => a * b, 1);
    const file = path.join(work, `${name}.bin`);
    writeFileSync(file, frame(encodePredictRequest(name, 'x', m.shape, Float32Array.from({ length: n }, (_, i) => (i % 17) / 17))));
    bodies.set(name, file);
  }
}

const h2load = h2loadGenerator('h2load');
const server = await startTsms(config, work, 'batching');
const rows: string[] = [];
try {
  const results = new Map<string, number[][]>();
  for (let rep = 0; rep < reps; rep++) {
    for (const m of models) {
      const pair: number[] = [];
      for (const name of rep % 2 === 0 ? [m.name, `${m.name}_batched`] : [`${m.name}_batched`, m.name]) {
        const spec = { transport: 'grpc' as const, origin: `http://127.0.0.1:${server.grpcPort}`, path: TFS_PREDICT_PATH, bodyFile: bodies.get(name)!, headers: GRPC_HEADERS, concurrency: 16, connections: 16, seconds: 1 };
        await h2load.run(spec); // warm-up
        const r = await h2load.run({ ...spec, seconds });
        if (r.errors > 0) throw new Error(`${name}: ${r.errors} failed requests`);
        log(`rep ${rep + 1} ${name}: ${r.reqPerSec.toFixed(0)} req/s, p50 ${(r.p50Us / 1000).toFixed(2)} ms`);
        pair[name.endsWith('_batched') ? 1 : 0] = r.reqPerSec;
      }
      results.set(m.name, [...(results.get(m.name) ?? []), pair]);
    }
  }
  rows.push('| model | batching off req/s | batching on req/s | on ÷ off (per repetition) |', '|---|---:|---:|---|');
  const median = (a: number[]) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)]!;
  for (const m of models) {
    const pairs = results.get(m.name)!;
    rows.push(`| ${m.name} | ${median(pairs.map((p) => p[0]!)).toFixed(0)} | ${median(pairs.map((p) => p[1]!)).toFixed(0)} | ${pairs.map((p) => (p[1]! / p[0]!).toFixed(2)).join(', ')} |`);
  }
} finally {
  await server.stop();
  rmSync(work, { recursive: true, force: true });
}
const table = `# Dynamic batching: 16 concurrent batch-1 TFS gRPC clients (h2load, ${seconds} s windows, ${reps} repetitions)\n\n${rows.join('\n')}\n`;
process.stdout.write(table);
mkdirSync(resultsDir, { recursive: true });
writeFileSync(path.join(resultsDir, 'dynamic-batching.md'), table);
