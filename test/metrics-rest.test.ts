/**
 * GET /metrics (SPEC §6.5): metric values that move by exactly the right amount after known
 * requests over every API, histograms that add up, the runtime gauges, process CPU and memory,
 * metrics_list, config.json `monitoring`, and the start-up errors.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { runCli, startServer, type RunningServer } from './helpers/server.js';
import { dummyModel, tempDir, writeRepository } from './helpers/models.js';
import { bytesOf, KserveClient } from './helpers/kserve-grpc.js';
import { TfsClient } from './helpers/tfs-grpc.js';

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

/** The value of the sample with exactly these labels (0 when the series does not exist yet). */
function valueOf(samples: readonly Sample[], name: string, labels: Record<string, string>): number {
  const want = Object.entries(labels).sort().join('|');
  const found = samples.filter((s) => s.name === name && Object.entries(s.labels).sort().join('|') === want);
  assert.ok(found.length <= 1, `${name} ${want} appears ${found.length} times`);
  return found[0]?.value ?? 0;
}

const ten = Array.from({ length: 10 }, (_, i) => i);
const predictBody = JSON.stringify({ instances: [ten] });
const inferBody = JSON.stringify({ inputs: [{ name: 'b', shape: [1, 10], datatype: 'FP32', data: ten }] });
const badInferBody = JSON.stringify({ inputs: [{ name: 'b', shape: [1, 9], datatype: 'FP32', data: ten.slice(1) }] });

describe('metrics disabled', () => {
  const dir = tempDir();
  let server: RunningServer;
  after(async () => { await server?.stop(); dir.remove(); });

  test('GET /metrics is an unknown URL without --metrics_enable', async () => {
    writeRepository(dir.path, { dummy: { 1: dummyModel() } });
    server = await startServer({ args: ['--model_name', 'dummy', '--model_path', path.join(dir.path, 'dummy')] });
    const res = await fetch(`${server.restUrl}/metrics`);
    assert.equal(res.status, 400);
    assert.deepEqual(await res.json(), { error: 'Invalid request URL' });
  });
});

describe('metrics enabled with every family', () => {
  const dir = tempDir();
  let server: RunningServer;
  let tfs: TfsClient;
  let kserve: KserveClient;
  const all = [
    'ovms_requests_success', 'ovms_requests_fail', 'ovms_request_time_us', 'ovms_inference_time_us', 'ovms_wait_for_infer_req_time_us',
    'ovms_streams', 'ovms_current_requests', 'ovms_infer_req_queue_size', 'ovms_infer_req_active',
  ];

  before(async () => {
    writeRepository(dir.path, { dummy: { 1: dummyModel() } });
    server = await startServer({
      args: ['--model_name', 'dummy', '--model_path', path.join(dir.path, 'dummy'), '--nireq', '3', '--metrics_enable', '--metrics_list', all.join(',')],
    });
    tfs = new TfsClient(server.grpcAddress);
    kserve = new KserveClient(server.grpcAddress);
  });
  after(async () => {
    tfs?.close();
    kserve?.close();
    await server?.stop();
    dir.remove();
  });

  async function scrape(): Promise<Sample[]> {
    const res = await fetch(`${server.restUrl}/metrics`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'text/plain; version=0.0.4; charset=utf-8');
    return parseMetrics(await res.text());
  }
  const rest = (p: string, body?: string) => fetch(`${server.restUrl}${p}`, { method: body === undefined ? 'GET' : 'POST', body }).then(async (r) => {
    await r.arrayBuffer();
    return r.status;
  });

  test('counters, histograms and gauges move by exactly the requests made', async () => {
    const before = await scrape();
    const series = (api: string, iface: string, method: string, withVersion = true) => ({
      api, interface: iface, method, name: 'dummy', ...(withVersion ? { version: '1' } : {}),
    });
    const counters: [Record<string, string>, number, number][] = [
      // labels, successes, failures
      [series('TensorFlowServing', 'REST', 'Predict'), 3, 0],
      [series('TensorFlowServing', 'gRPC', 'Predict'), 2, 0],
      [series('KServe', 'REST', 'ModelInfer'), 4, 2],
      [series('KServe', 'gRPC', 'ModelInfer'), 1, 0],
      [series('TensorFlowServing', 'REST', 'GetModelMetadata'), 1, 0],
      [series('TensorFlowServing', 'REST', 'GetModelStatus', false), 2, 0],
      [series('TensorFlowServing', 'gRPC', 'GetModelStatus', false), 1, 0],
      [series('KServe', 'REST', 'ModelReady', false), 1, 0],
      [series('KServe', 'gRPC', 'ModelMetadata'), 1, 0],
    ];

    for (let i = 0; i < 3; i++) assert.equal(await rest('/v1/models/dummy:predict', predictBody), 200);
    for (let i = 0; i < 2; i++) {
      await tfs.predict({ model_spec: { name: 'dummy' }, inputs: { b: { dtype: 1, tensor_shape: { dim: [{ size: 1 }, { size: 10 }] }, tensor_content: bytesOf(Float32Array.from(ten)) } } });
    }
    for (let i = 0; i < 4; i++) assert.equal(await rest('/v2/models/dummy/infer', inferBody), 200);
    for (let i = 0; i < 2; i++) assert.equal(await rest('/v2/models/dummy/infer', badInferBody), 400);
    await kserve.call('ModelInfer', { model_name: 'dummy', inputs: [{ name: 'b', datatype: 'FP32', shape: [1, 10] }], raw_input_contents: [bytesOf(Float32Array.from(ten))] });
    assert.equal(await rest('/v1/models/dummy/metadata'), 200);
    assert.equal(await rest('/v1/models/dummy'), 200);
    assert.equal(await rest('/v1/models/dummy/versions/1'), 200);
    await tfs.getModelStatus({ model_spec: { name: 'dummy' } });
    assert.equal(await rest('/v2/models/dummy/ready'), 200);
    await kserve.call('ModelMetadata', { name: 'dummy' });
    // Requests for models that do not exist have no series (as in OVMS).
    assert.equal(await rest('/v2/models/ghost/infer', inferBody), 404);

    const after = await scrape();
    for (const [labels, ok, failed] of counters) {
      const d = (name: string) => valueOf(after, name, labels) - valueOf(before, name, labels);
      assert.equal(d('ovms_requests_success'), ok, `success ${JSON.stringify(labels)}`);
      assert.equal(d('ovms_requests_fail'), failed, `fail ${JSON.stringify(labels)}`);
    }
    assert.equal(after.filter((s) => s.labels['name'] === 'ghost').length, 0);

    // Request time: one observation per successful inference request, per interface.
    const count = (samples: Sample[], name: string, labels: Record<string, string>) => valueOf(samples, `${name}_count`, labels);
    const delta = (name: string, labels: Record<string, string>) => count(after, name, labels) - count(before, name, labels);
    assert.equal(delta('ovms_request_time_us', { interface: 'REST', name: 'dummy', version: '1' }), 3 + 4);
    assert.equal(delta('ovms_request_time_us', { interface: 'gRPC', name: 'dummy', version: '1' }), 2 + 1);
    // Inference and queue wait: one per successful run, whatever the API.
    assert.equal(delta('ovms_inference_time_us', { name: 'dummy', version: '1' }), 10);
    assert.equal(delta('ovms_wait_for_infer_req_time_us', { name: 'dummy', version: '1' }), 10);
    assert.ok(valueOf(after, 'ovms_inference_time_us_sum', { name: 'dummy', version: '1' }) > 0);

    // Buckets: OVMS's bounds, cumulative, ending in +Inf = count.
    const buckets = after.filter((s) => s.name === 'ovms_request_time_us_bucket' && s.labels['interface'] === 'REST');
    assert.equal(buckets.length, 34);
    assert.deepEqual(buckets.slice(0, 4).map((b) => b.labels['le']), ['10', '18', '32', '58']);
    assert.equal(buckets[32]!.labels['le'], String(Math.floor(10 * 1.8 ** 32)));
    for (let i = 1; i < buckets.length; i++) assert.ok(buckets[i]!.value >= buckets[i - 1]!.value);
    assert.equal(buckets[33]!.labels['le'], '+Inf');
    assert.equal(buckets[33]!.value, count(after, 'ovms_request_time_us', { interface: 'REST', name: 'dummy', version: '1' }));

    // Gauges: nothing in flight now; nireq as configured; at least one stream.
    assert.equal(valueOf(after, 'ovms_current_requests', { name: 'dummy', version: '1' }), 0);
    assert.equal(valueOf(after, 'ovms_infer_req_queue_size', { name: 'dummy', version: '1' }), 3);
    assert.equal(valueOf(after, 'ovms_infer_req_active', { name: 'dummy', version: '1' }), 0);
    assert.ok(valueOf(after, 'ovms_streams', { name: 'dummy', version: '1' }) >= 1);

    // Process CPU and memory (prom-client's default set).
    assert.ok(valueOf(after, 'process_cpu_seconds_total', {}) > 0);
    assert.ok(valueOf(after, 'process_resident_memory_bytes', {}) > 10_000_000);
    assert.ok(after.some((s) => s.name === 'nodejs_heap_size_used_bytes'));
  });
});

describe('metrics from config.json monitoring, and start-up errors', () => {
  const dir = tempDir();
  let server: RunningServer;
  after(async () => { await server?.stop(); dir.remove(); });

  test('monitoring.metrics with a metrics_list serves only the listed ovms_* families', async () => {
    writeRepository(dir.path, { dummy: { 1: dummyModel() } });
    const configPath = path.join(dir.path, 'config.json');
    writeFileSync(configPath, JSON.stringify({
      model_config_list: [{ config: { name: 'dummy', base_path: path.join(dir.path, 'dummy') } }],
      monitoring: { metrics: { enable: true, metrics_list: ['ovms_requests_success', 'ovms_current_graphs'] } },
    }));
    server = await startServer({ args: ['--config_path', configPath] });
    await fetch(`${server.restUrl}/v2/models/dummy/infer`, { method: 'POST', body: inferBody }).then((r) => r.arrayBuffer());
    const samples = parseMetrics(await (await fetch(`${server.restUrl}/metrics`)).text());
    const families = new Set(samples.filter((s) => s.name.startsWith('ovms_')).map((s) => s.name));
    assert.deepEqual([...families], ['ovms_requests_success']);
    assert.equal(valueOf(samples, 'ovms_requests_success', { api: 'KServe', interface: 'REST', method: 'ModelInfer', name: 'dummy', version: '1' }), 1);
    assert.match(server.output(), /ovms_current_graphs apply to MediaPipe graphs/);
  });

  test('an unknown name in metrics_list stops the server with OVMS\'s text', async () => {
    writeRepository(dir.path, { dummy: { 1: dummyModel() } });
    const res = await runCli(['--model_name', 'dummy', '--model_path', path.join(dir.path, 'dummy'), '--port', '0', '--rest_port', '0',
      '--metrics_enable', '--metrics_list', 'ovms_requests_success,ovms_bogus']);
    // --rest_port 0 with metrics is a usage error first (OVMS's CLI check).
    assert.equal(res.code, 64);
    const res2 = await runCli(['--model_name', 'dummy', '--model_path', path.join(dir.path, 'dummy'), '--port', '0', '--rest_port', '1',
      '--metrics_enable', '--metrics_list', 'ovms_requests_success,ovms_bogus']);
    assert.equal(res2.code, 1);
    assert.match(res2.stdout + res2.stderr, /Invalid name in metrics_list: ovms_bogus/);
  });

  test('metrics enabled by config.json without a REST port stops the server', async () => {
    const configPath = path.join(dir.path, 'norest.json');
    writeFileSync(configPath, JSON.stringify({
      model_config_list: [{ config: { name: 'dummy', base_path: path.join(dir.path, 'dummy') } }],
      monitoring: { metrics: { enable: true } },
    }));
    const res = await runCli(['--config_path', configPath, '--port', '0']);
    assert.equal(res.code, 1);
    assert.match(res.stdout + res.stderr, /Missing rest_port parameter in server CLI/);
  });
});
