/**
 * A pipeline name works where a model name does on the two fronts pipeline-server.test.ts does not
 * cover: KServe v2 gRPC (ModelInfer, ModelMetadata, ModelReady) and Prometheus metrics, whose
 * request counters get a series named after the pipeline that moves by exactly the requests made.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { startServer, type RunningServer } from './helpers/server.js';
import { dummyModel, tempDir, writeRepository } from './helpers/models.js';
import { bytesOf, floats, KserveClient } from './helpers/kserve-grpc.js';
import { modelNode, pipeline, src } from './helpers/pipelines.js';

const ten = Array.from({ length: 10 }, (_, i) => i);
const plus = (v: number[], k: number) => v.map((x) => x + k);

interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

/** The Prometheus text format's samples (HELP/TYPE comments skipped). */
function parseMetrics(text: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    assert.ok(m, `unparsable metrics line: ${line}`);
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]!] = l[2]!;
    out.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return out;
}

/**
 * The value of the one sample of `name` whose labels include `labels` (0 when absent). Matching a
 * subset keeps the test neutral on whether a pipeline series carries a `version` label.
 */
function valueOf(samples: readonly Sample[], name: string, labels: Record<string, string>): number {
  const found = samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  assert.ok(found.length <= 1, `${name} ${JSON.stringify(labels)} appears ${found.length} times`);
  return found[0]?.value ?? 0;
}

describe('a pipeline over KServe gRPC and in metrics', () => {
  let server: RunningServer;
  let kserve: KserveClient;
  let dir: { path: string; remove(): void };

  before(async () => {
    dir = tempDir();
    const models = path.join(dir.path, 'models');
    writeRepository(models, { dummy: { 1: dummyModel() } });
    const configPath = path.join(dir.path, 'config.json');
    writeFileSync(configPath, JSON.stringify({
      model_config_list: [{ config: { name: 'dummy', base_path: path.join(models, 'dummy') } }],
      pipeline_config_list: [
        pipeline('chain', ['b'], [
          modelNode('first', 'dummy', { b: src('request', 'b') }, [['a', 'a1']]),
          modelNode('second', 'dummy', { b: src('first', 'a1') }, [['a', 'a2']]),
        ], { out: src('second', 'a2') }),
      ],
    }));
    server = await startServer({ args: ['--config_path', configPath, '--metrics_enable'] });
    kserve = new KserveClient(server.grpcAddress);
  });

  after(async () => {
    kserve?.close();
    await server?.stop();
    dir?.remove();
  });

  const inferChain = () => kserve.call('ModelInfer', {
    model_name: 'chain', id: 'p-1',
    inputs: [{ name: 'b', datatype: 'FP32', shape: [1, 10] }],
    raw_input_contents: [bytesOf(Float32Array.from(ten))],
  });

  async function scrape(): Promise<Sample[]> {
    const res = await fetch(`${server.restUrl}/metrics`);
    assert.equal(res.status, 200);
    return parseMetrics(await res.text());
  }

  test('KServe gRPC ModelInfer runs dummy→dummy (adds 2)', async () => {
    const res = await inferChain();
    assert.equal(res.model_name, 'chain');
    assert.equal(res.id, 'p-1');
    assert.equal(res.outputs.length, 1);
    assert.equal(res.outputs[0].name, 'out');
    assert.equal(res.outputs[0].datatype, 'FP32');
    assert.deepEqual(res.outputs[0].shape, [1, 10]);
    assert.equal(res.raw_output_contents.length, 1);
    assert.deepEqual(floats(res.raw_output_contents[0]), plus(ten, 2));
  });

  test('KServe gRPC ModelMetadata describes the pipeline as version 1', async () => {
    const meta = await kserve.call('ModelMetadata', { name: 'chain' });
    assert.equal(meta.name, 'chain');
    assert.deepEqual(meta.versions, ['1']);
    assert.equal(typeof meta.platform, 'string');
    assert.deepEqual(meta.inputs, [{ name: 'b', datatype: 'FP32', shape: [1, 10] }]);
    assert.deepEqual(meta.outputs, [{ name: 'out', datatype: 'FP32', shape: [1, 10] }]);
  });

  test('KServe gRPC ModelReady says the pipeline is ready', async () => {
    assert.deepEqual(await kserve.call('ModelReady', { name: 'chain' }), { ready: true });
  });

  test('ovms_requests_success for the pipeline moves by exactly the requests made', async () => {
    const series = (api: string, iface: string, method: string) => ({ api, interface: iface, method, name: 'chain' });
    const inferSeries = series('KServe', 'gRPC', 'ModelInfer');
    const restSeries = series('KServe', 'REST', 'ModelInfer');
    const before = await scrape();

    const grpcN = 3;
    for (let i = 0; i < grpcN; i++) assert.deepEqual(floats((await inferChain()).raw_output_contents[0]), plus(ten, 2));
    const restN = 2;
    const body = JSON.stringify({ inputs: [{ name: 'b', shape: [1, 10], datatype: 'FP32', data: ten }] });
    for (let i = 0; i < restN; i++) {
      const res = await fetch(`${server.restUrl}/v2/models/chain/infer`, { method: 'POST', body });
      assert.equal(res.status, 200);
      assert.deepEqual((await res.json()).outputs[0].data, plus(ten, 2));
    }
    await kserve.call('ModelMetadata', { name: 'chain' });

    const after = await scrape();
    const delta = (name: string, labels: Record<string, string>) => valueOf(after, name, labels) - valueOf(before, name, labels);
    assert.equal(delta('ovms_requests_success', inferSeries), grpcN, `samples: ${JSON.stringify(after.filter((s) => s.labels['name'] === 'chain'))}`);
    assert.equal(delta('ovms_requests_success', restSeries), restN);
    assert.equal(delta('ovms_requests_success', series('KServe', 'gRPC', 'ModelMetadata')), 1);
    assert.equal(delta('ovms_requests_fail', inferSeries), 0);
  });
});
