/**
 * The KServe codecs without a server: the hand-written ModelInfer walker and encoder against
 * protobufjs (an independent implementation of the same .proto), hostile bytes, the REST body
 * parser's limits, and the metric cells behind /metrics.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import protobuf from 'protobufjs';
import { ServingError } from '../src/core/errors.js';
import type { TensorSpec } from '../src/core/tensor.js';
import { decodeInferInputs, encodeInferResponse, parseInferRequest } from '../src/api/kserve/infer-codec.js';
import { parseInferBody, encodeRestInferResponse } from '../src/api/kserve/rest-infer.js';
import { splitPrefixedElements } from '../src/api/kserve/tensors.js';
import { parseModelVersion } from '../src/api/kserve/errors.js';
import { HistogramCell, OVMS_LATENCY_BUCKETS_US } from '../src/metrics/cells.js';
import { enabledFamilies } from '../src/metrics/metric-names.js';
import { ServingMetrics } from '../src/metrics/serving-metrics.js';
import { kserveRoot, type Json } from './helpers/kserve-grpc.js';

const Req = kserveRoot.lookupType('inference.ModelInferRequest');
const Res = kserveRoot.lookupType('inference.ModelInferResponse');
const encode = (obj: Json) => Req.encode(Req.fromObject(obj)).finish();

function servingErr(fn: () => unknown): ServingError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof ServingError, `expected ServingError, got ${String(err)}`);
    return err;
  }
  assert.fail('expected an error');
}

const x4: TensorSpec[] = [{ name: 'x', dtype: 'FP32', shape: [-1, 4] }];

describe('ModelInferRequest walker', () => {
  it('reads every field protobufjs writes; raw buffers are views over the request', () => {
    const raw = Buffer.from(new Float32Array([1, 2, 3, 4]).buffer);
    const bytes = encode({
      model_name: 'm', model_version: '3', id: 'q',
      parameters: { a: { int64_param: 5 } },
      inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 4] }],
      outputs: [{ name: 'y' }, { name: 'z' }],
      raw_input_contents: [raw],
    });
    const req = parseInferRequest(bytes);
    assert.equal(req.modelName, 'm');
    assert.equal(req.modelVersion, '3');
    assert.equal(req.id, 'q');
    assert.deepEqual(req.outputs, ['y', 'z']);
    assert.equal(req.parameterEntries.length, 2);
    const t = decodeInferInputs(req, x4).get('x')!;
    assert.deepEqual(t.shape, [1, 4]);
    assert.deepEqual([...(t.data as Float32Array)], [1, 2, 3, 4]);
  });

  it('typed contents split over several runs (packed and unpacked) decode in order', () => {
    const w = protobuf.Writer.create();
    w.uint32((5 << 3) | 2).fork()
      .uint32((1 << 3) | 2).string('x')
      .uint32((2 << 3) | 2).string('INT64')
      .uint32((3 << 3) | 2).fork().int64(1).int64(3).ldelim()
      .uint32((5 << 3) | 2).fork()
      .uint32(3 << 3).int64(-5)
      .uint32((3 << 3) | 2).fork().int64(2 ** 40).int64(-1).ldelim()
      .ldelim()
      .ldelim();
    const req = parseInferRequest(w.finish());
    const t = decodeInferInputs(req, [{ name: 'x', dtype: 'INT64', shape: [1, 3] }]).get('x')!;
    assert.deepEqual([...(t.data as BigInt64Array)], [-5n, 2n ** 40n, -1n]);
  });

  it('hostile bytes are INVALID_ARGUMENT "Malformed ModelInferRequest: …", never a crash', () => {
    const good = encode({ model_name: 'm', inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 4], contents: { fp32_contents: [1, 2, 3, 4] } }] });
    for (let cut = 1; cut < good.length; cut++) {
      try {
        decodeInferInputs(parseInferRequest(good.subarray(0, cut)), x4);
      } catch (err) {
        assert.ok(err instanceof ServingError, `cut at ${cut}: ${String(err)}`);
        assert.equal(err.code, 'INVALID_ARGUMENT');
      }
    }
    const e = servingErr(() => parseInferRequest(Uint8Array.from([0x2a, 0x05, 0x01])));
    assert.match(e.message, /^Malformed ModelInferRequest: /);
  });

  it('BYTES raw layout: length prefixes are checked', () => {
    assert.deepEqual((splitPrefixedElements(Uint8Array.from([1, 0, 0, 0, 65, 0, 0, 0, 0])) as Uint8Array[]).map((b) => [...b]), [[65], []]);
    assert.match(splitPrefixedElements(Uint8Array.from([1, 0, 0])) as string, /truncated 4-byte length prefix/);
    assert.match(splitPrefixedElements(Uint8Array.from([9, 0, 0, 0, 1])) as string, /declares 9 bytes but only 1 remain/);
  });
});

describe('ModelInferResponse encoder', () => {
  it('writes outputs, one raw buffer per output (empty ones too), and echoes parameters', () => {
    const request = parseInferRequest(encode({ model_name: 'm', parameters: { k: { string_param: 'v' } } }));
    const outputs = new Map([
      ['e', { dtype: 'FP32' as const, shape: [0, 4], data: new Float32Array(0) }],
      ['s', { dtype: 'STRING' as const, shape: [2], data: [Buffer.from('ab'), Buffer.from('')] }],
      ['i', { dtype: 'INT64' as const, shape: [1], data: BigInt64Array.from([-2n]) }],
    ]);
    const bytes = encodeInferResponse(outputs, ['e', 's', 'i'], { modelName: 'm', modelVersion: '12', id: 'abc', request });
    const res = Res.toObject(Res.decode(bytes), { longs: Number, defaults: true }) as Json;
    assert.equal(res.model_name, 'm');
    assert.equal(res.model_version, '12');
    assert.equal(res.id, 'abc');
    assert.deepEqual(res.parameters, { k: { string_param: 'v' } });
    assert.deepEqual(res.outputs.map((o: Json) => [o.name, o.datatype, o.shape]), [['e', 'FP32', [0, 4]], ['s', 'BYTES', [2]], ['i', 'INT64', [1]]]);
    assert.equal(res.raw_output_contents.length, 3);
    assert.equal(res.raw_output_contents[0].length, 0);
    assert.deepEqual([...res.raw_output_contents[1]], [2, 0, 0, 0, 97, 98, 0, 0, 0, 0]);
    assert.equal(Buffer.from(res.raw_output_contents[2]).readBigInt64LE(0), -2n);
  });
});

describe('REST inference body', () => {
  it('refuses "data" nested past 64 levels and bad header lengths', () => {
    let deep: unknown = 1;
    for (let i = 0; i < 70; i++) deep = [deep];
    const body = Buffer.from(JSON.stringify({ inputs: [{ name: 'x', shape: [1, 4], datatype: 'FP32', data: deep }] }));
    assert.match(servingErr(() => parseInferBody(body, undefined, x4)).message, /nested deeper than 64 levels/);
    assert.match(servingErr(() => parseInferBody(body, '-1', x4)).message, /^Invalid Inference-Header-Content-Length/);
    assert.match(servingErr(() => parseInferBody(body, '1e3', x4)).message, /^Invalid Inference-Header-Content-Length/);
  });

  it('integers out of range for the datatype are refused', () => {
    const specs: TensorSpec[] = [{ name: 'x', dtype: 'UINT8', shape: [2] }];
    const body = Buffer.from(JSON.stringify({ inputs: [{ name: 'x', shape: [2], datatype: 'UINT8', data: [1, 256] }] }));
    assert.equal(servingErr(() => parseInferBody(body, undefined, specs)).message,
      'Could not parse input content. Not valid ndarray detected - input x: 256 is out of range for UINT8 [0, 255]');
  });

  it('binary outputs are chunks over the output arrays (no joined copy)', () => {
    const data = new Float32Array([1, 2]);
    const out = encodeRestInferResponse(new Map([['y', { dtype: 'FP32', shape: [2], data }]]), [{ name: 'y', binary: true }],
      { modelName: 'm', modelVersion: '1', id: undefined, parameters: undefined });
    assert.equal(out.chunks.length, 2);
    assert.equal(out.chunks[1]!.buffer, data.buffer);
    assert.equal(out.headerLength, out.chunks[0]!.byteLength);
  });

  it('version strings', () => {
    assert.equal(parseModelVersion(''), 0);
    assert.equal(parseModelVersion('17'), 17);
    assert.equal(servingErr(() => parseModelVersion('1.0')).message, 'invalid model version format in request');
    assert.equal(servingErr(() => parseModelVersion(' 1')).message, 'invalid model version format in request');
    assert.equal(servingErr(() => parseModelVersion('-1')).code, 'NOT_FOUND');
    assert.equal(servingErr(() => parseModelVersion('99999999999999999999')).code, 'NOT_FOUND');
  });
});

describe('metric cells', () => {
  it('OVMS buckets; a value equal to a bound falls in that bound\'s bucket', () => {
    assert.equal(OVMS_LATENCY_BUCKETS_US.length, 33);
    assert.deepEqual(OVMS_LATENCY_BUCKETS_US.slice(0, 5), [10, 18, 32, 58, 104]);
    const h = new HistogramCell(OVMS_LATENCY_BUCKETS_US);
    h.observe(10);
    h.observe(10.5);
    h.observe(1e12);
    assert.equal(h.counts[0], 1);
    assert.equal(h.counts[1], 1);
    assert.equal(h.counts[33], 1);
    assert.equal(h.count, 3);
  });

  it('metrics_list: unknown names are refused with OVMS\'s text', () => {
    assert.throws(() => enabledFamilies(['ovms_requests_success', 'nope']), /^MetricsConfigError: Invalid name in metrics_list: nope$/);
    assert.deepEqual([...enabledFamilies(['ovms_infer_req_active'])], ['ovms_infer_req_active']);
    assert.equal(enabledFamilies(undefined).size, 7);
  });

  it('renders through prom-client with escaped label values', async () => {
    const registry = { names: () => [], getStatus: () => [], getServable: () => Promise.reject(new Error('none')) };
    const metrics = new ServingMetrics({ families: enabledFamilies(['ovms_requests_success']), registry });
    const series = metrics.endpoint('KServe', 'REST', 'ModelInfer').of({ name: 'we"ird\\name', version: 2 } as never);
    series.answered();
    series.answered();
    const { body, contentType } = await metrics.render();
    assert.equal(contentType, 'text/plain; version=0.0.4; charset=utf-8');
    assert.match(body, /^ovms_requests_success\{api="KServe",interface="REST",method="ModelInfer",name="we\\"ird\\\\name",version="2"\} 2$/m);
  });
});
