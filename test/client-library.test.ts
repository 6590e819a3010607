/**
 * The client library (src/client) against a real server, every call over each of the four
 * clients: TFS gRPC, TFS REST, KServe gRPC, KServe REST.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { writeFileSync } from 'node:fs';
import { startServer, type RunningServer } from './helpers/server.js';
import { dummyModel, identityModel, slowModel, tempDir, twoOutputsModel, writeRepository } from './helpers/models.js';
import {
  ClientError, KServeGrpcClient, KServeRestClient, TfsGrpcClient, TfsRestClient, createClient, tensor, tensorValues,
  type ServingClient,
} from '../src/client/index.js';
import { numberToHalfBits } from '../src/core/fp16.js';

const repo = tempDir('tsms-client-');
let server: RunningServer;

before(async () => {
  writeRepository(repo.path, {
    dummy: { 1: dummyModel(1), 2: dummyModel(2) },
    two: { 1: twoOutputsModel() },
    int64: { 1: identityModel('INT64') },
    fp16: { 1: identityModel('FP16') },
    uint8: { 1: identityModel('UINT8') },
    bool: { 1: identityModel('BOOL') },
    fp64: { 1: identityModel('FP64') },
    slow: { 1: slowModel(256, 64) },
  });
  const names = ['dummy', 'two', 'int64', 'fp16', 'uint8', 'bool', 'fp64', 'slow'];
  writeFileSync(path.join(repo.path, 'config.json'), JSON.stringify({
    model_config_list: names.map((name) => ({
      config: { name, base_path: path.join(repo.path, name), ...(name === 'dummy' && { model_version_policy: { all: {} } }) },
    })),
  }));
  server = await startServer({ args: ['--config_path', path.join(repo.path, 'config.json'), '--file_system_poll_wait_seconds', '0'] });
});

after(async () => {
  await server?.stop();
  repo.remove();
});

const kinds = [
  { label: 'TFS gRPC', make: () => new TfsGrpcClient({ address: server.grpcAddress }), notFound: 5, invalid: 3 },
  { label: 'TFS REST', make: () => new TfsRestClient({ address: server.restUrl }), notFound: 404, invalid: 400 },
  { label: 'KServe gRPC', make: () => new KServeGrpcClient({ address: server.grpcAddress }), notFound: 5, invalid: 3 },
  { label: 'KServe REST', make: () => new KServeRestClient({ address: server.restUrl }), notFound: 404, invalid: 400 },
] as const;

async function rejectsWith(promise: Promise<unknown>, code: number, details: string | RegExp): Promise<ClientError> {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof ClientError, `a ClientError, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    if (typeof details === 'string') assert.equal(err.details, details);
    else assert.match(err.details, details);
    return err;
  }
  throw new assert.AssertionError({ message: 'expected a ClientError, the call succeeded' });
}

for (const kind of kinds) {
  describe(`${kind.label} client`, () => {
    let client: ServingClient;
    before(() => {
      client = kind.make();
    });
    after(() => client.close());

    it('status: every version, one version, unknown model', async () => {
      const all = await client.status('dummy');
      assert.deepEqual(all.map((s) => s.version).sort(), ['1', '2']);
      const ready = client.protocol === 'tfs' ? 'AVAILABLE' : 'READY';
      assert.ok(all.every((s) => s.state === ready), JSON.stringify(all));
      const one = await client.status('dummy', { version: 1 });
      assert.deepEqual(one.map((s) => [s.version, s.state]), [['1', ready]]);
      if (client.protocol === 'tfs') assert.deepEqual([one[0]!.errorCode, one[0]!.errorMessage], ['OK', 'OK']);
      await rejectsWith(client.status('nope'), kind.notFound, 'Model with requested name is not found');
    });

    it('metadata: inputs and outputs with dtypes and shapes', async () => {
      const meta = await client.metadata('two');
      assert.equal(meta.name, 'two');
      assert.deepEqual(meta.inputs, [{ name: 'x', dtype: 'FP32', shape: [-1, 4] }]);
      assert.deepEqual([...meta.outputs].sort((a, b) => a.name.localeCompare(b.name)), [
        { name: 'doubled', dtype: 'FP32', shape: [-1, 4] },
        { name: 'negated', dtype: 'FP32', shape: [-1, 4] },
      ]);
      const v1 = await client.metadata('dummy', { version: 1 });
      assert.ok(v1.versions.includes('1'));
      await rejectsWith(client.metadata('dummy', { version: 7 }), kind.notFound, 'Model with requested version is not found');
    });

    it('infer: FP32 in and out as Float32Array, default and pinned version', async () => {
      const input = { b: tensor('FP32', [1, 10], Float32Array.from({ length: 10 }, (_, i) => i)) };
      const latest = await client.infer('dummy', input);
      assert.equal(latest.modelName, 'dummy');
      assert.equal(latest.modelVersion, '2');
      const a = latest.outputs['a']!;
      assert.equal(a.dtype, 'FP32');
      assert.deepEqual(a.shape, [1, 10]);
      assert.ok(a.data instanceof Float32Array);
      assert.deepEqual([...a.data], [2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
      const v1 = await client.predict('dummy', input, { version: 1 });
      assert.deepEqual([...v1.outputs['a']!.data as Float32Array], [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    });

    it('infer: an output subset, batch of 2', async () => {
      const x = tensor('FP32', [2, 4], [1, 2, 3, 4, 5, 6, 7, 8]);
      const both = await client.infer('two', { x });
      assert.deepEqual(Object.keys(both.outputs).sort(), ['doubled', 'negated']);
      assert.deepEqual([...both.outputs['negated']!.data as Float32Array], [-1, -2, -3, -4, -5, -6, -7, -8]);
      const one = await client.infer('two', new Map([['x', x]]), { outputs: ['doubled'] });
      assert.deepEqual(Object.keys(one.outputs), ['doubled']);
      assert.deepEqual(one.outputs['doubled']!.shape, [2, 4]);
      assert.deepEqual([...one.outputs['doubled']!.data as Float32Array], [2, 4, 6, 8, 10, 12, 14, 16]);
    });

    it('infer: INT64 values beyond 2^53 stay exact as BigInt64Array', async () => {
      const values = [9007199254740993n, -9223372036854775807n, 42n];
      const res = await client.infer('int64', { in: tensor('INT64', [1, 3], BigInt64Array.from(values)) });
      const out = res.outputs['out']!;
      assert.equal(out.dtype, 'INT64');
      assert.ok(out.data instanceof BigInt64Array);
      assert.deepEqual([...out.data], values);
    });

    it('infer: FP16, UINT8, BOOL and FP64 round-trip', async () => {
      const half = await client.infer('fp16', { in: tensor('FP16', [1, 3], [0.5, -2, 65504]) });
      assert.equal(half.outputs['out']!.dtype, 'FP16');
      assert.deepEqual([...half.outputs['out']!.data as Uint16Array], [0.5, -2, 65504].map(numberToHalfBits));
      assert.deepEqual(tensorValues(half.outputs['out']!), [0.5, -2, 65504]);
      const u8 = await client.infer('uint8', { in: tensor('UINT8', [2, 3], Uint8Array.from([0, 1, 2, 253, 254, 255])) });
      assert.ok(u8.outputs['out']!.data instanceof Uint8Array);
      assert.deepEqual([...u8.outputs['out']!.data as Uint8Array], [0, 1, 2, 253, 254, 255]);
      const bool = await client.infer('bool', { in: tensor('BOOL', [1, 3], [true, false, true]) });
      assert.deepEqual(tensorValues(bool.outputs['out']!), [true, false, true]);
      const f64 = await client.infer('fp64', { in: tensor('FP64', [1, 3], [Math.PI, -1e300, 5e-324]) });
      assert.deepEqual([...f64.outputs['out']!.data as Float64Array], [Math.PI, -1e300, 5e-324]);
    });

    it('infer: the server\'s errors carry code and OVMS text', async () => {
      await rejectsWith(client.infer('dummy', { b: tensor('FP32', [1, 11], new Float32Array(11)) }), kind.invalid,
        'Invalid input shape - Expected: (1,10); Actual: (1,11)');
      await rejectsWith(client.infer('missing', { b: tensor('FP32', [1, 10], new Float32Array(10)) }), kind.notFound,
        'Model with requested name is not found');
    });

    it('a call past its timeout fails with a deadline error', async () => {
      const x = tensor('FP32', [256, 256], new Float32Array(256 * 256).fill(1));
      const err = await rejectsWith(client.infer('slow', { x }, { timeoutMs: 1 }), client.transport === 'grpc' ? 4 : 0, /./);
      assert.equal(err.status, client.transport === 'grpc' ? 'DEADLINE_EXCEEDED' : 'TIMEOUT');
    });

    it('reload', async () => {
      await client.reload(client.protocol === 'kserve' ? ['dummy'] : undefined);
      const after = await client.status('dummy');
      assert.equal(after.length, 2);
    });
  });
}

describe('protocol-specific calls', () => {
  it('KServe: server live/ready/metadata, model ready, repository index, unload and load', async () => {
    for (const client of [new KServeGrpcClient({ address: server.grpcAddress }), new KServeRestClient({ address: server.restUrl })]) {
      assert.equal(await client.serverLive(), true);
      assert.equal(await client.serverReady(), true);
      const meta = await client.serverMetadata();
      assert.equal(meta.name, 'tsms');
      assert.ok(meta.extensions.includes('model_repository'));
      assert.equal(await client.modelReady('dummy', { version: 1 }), true);
      const index = await client.repositoryIndex();
      assert.deepEqual(index.filter((e) => e.name === 'dummy').map((e) => [e.version, e.state]).sort(), [['1', 'READY'], ['2', 'READY']]);
      await client.unloadModel('uint8');
      const unloaded = (await client.repositoryIndex()).filter((e) => e.name === 'uint8');
      assert.ok(unloaded.every((e) => e.state !== 'READY'), JSON.stringify(unloaded));
      assert.deepEqual((await client.repositoryIndex({ readyOnly: true })).filter((e) => e.name === 'uint8'), []);
      await client.loadModel('uint8');
      assert.equal(await client.modelReady('uint8'), true);
      await rejectsWith(client.loadModel('unknown'), client.transport === 'grpc' ? 5 : 404, /./);
      client.close();
    }
  });

  it('TFS REST: /v1/config and /v1/config/reload', async () => {
    const client = new TfsRestClient({ address: `127.0.0.1:${server.restPort}` });
    const config = await client.config();
    assert.deepEqual(Object.keys(config).sort(), ['bool', 'dummy', 'fp16', 'fp64', 'int64', 'slow', 'two', 'uint8']);
    assert.deepEqual(config['dummy']!.map((s) => s.state), ['AVAILABLE', 'AVAILABLE']);
    const reload = await client.reloadConfig();
    assert.equal(reload.reloaded, false);
    assert.deepEqual(Object.keys(reload.models).sort(), Object.keys(config).sort());
  });

  it('createClient picks the class by protocol and transport', () => {
    const address = server.grpcAddress;
    const made = [
      createClient({ protocol: 'tfs', transport: 'grpc', address }),
      createClient({ protocol: 'tfs', transport: 'rest', address }),
      createClient({ protocol: 'kserve', transport: 'grpc', address }),
      createClient({ address }),
    ];
    assert.deepEqual(made.map((c) => c.constructor.name), ['TfsGrpcClient', 'TfsRestClient', 'KServeGrpcClient', 'KServeGrpcClient']);
    for (const c of made) c.close();
  });

  it('an unreachable REST server is a ClientError, not a crash', async () => {
    const client = new KServeRestClient({ address: '127.0.0.1:1', timeoutMs: 2000 });
    const err = await rejectsWith(client.metadata('dummy'), 0, /./);
    assert.equal(err.status, 'UNREACHABLE');
  });
});

describe('API key (--api_key_file)', () => {
  const dir = tempDir('tsms-client-key-');
  let keyed: RunningServer;

  before(async () => {
    writeRepository(dir.path, { dummy: { 1: dummyModel() } });
    writeFileSync(path.join(dir.path, 'key'), 'client-test-key\n');
    keyed = await startServer({ args: ['--model_name', 'dummy', '--model_path', path.join(dir.path, 'dummy'), '--api_key_file', path.join(dir.path, 'key')] });
  });

  after(async () => {
    await keyed?.stop();
    dir.remove();
  });

  it('every client sends the key as Authorization: Bearer; without it the call is refused', async () => {
    const b = tensor('FP32', [1, 10], new Float32Array(10));
    for (const [make, refused] of [
      [(apiKey?: string) => new TfsGrpcClient({ address: keyed.grpcAddress, ...(apiKey && { apiKey }) }), 16],
      [(apiKey?: string) => new TfsRestClient({ address: keyed.restUrl, ...(apiKey && { apiKey }) }), 401],
      [(apiKey?: string) => new KServeGrpcClient({ address: keyed.grpcAddress, ...(apiKey && { apiKey }) }), 16],
      [(apiKey?: string) => new KServeRestClient({ address: keyed.restUrl, ...(apiKey && { apiKey }) }), 401],
    ] as const) {
      const withKey = make('client-test-key');
      assert.deepEqual([...(await withKey.infer('dummy', { b })).outputs['a']!.data as Float32Array], new Array(10).fill(1));
      withKey.close();
      const without = make();
      await rejectsWith(without.metadata('dummy'), refused, /API key/);
      without.close();
      const wrong = make('other-key');
      await rejectsWith(wrong.infer('dummy', { b }), refused, /API key/);
      wrong.close();
    }
  });
});
