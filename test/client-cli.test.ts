/**
 * The `tsms-client` command against a real server: status, metadata, predict from .npy, JSON and
 * image files (output as JSON or .npy), a folder run with progress on stderr, reload, and errors.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { repoRoot, startServer, type RunningServer } from './helpers/server.js';
import { dummyModel, tempDir, writeRepository } from './helpers/models.js';
import { DETECTIONS, detectorModel } from './helpers/console-models.js';
import { decodeNpy, encodeNpy } from '../src/client/npy.js';
import { tensor } from '../src/client/tensors.js';

const cliScript = path.join(repoRoot, 'dist/src/client/cli.js');

function runClient(args: readonly string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, [cliScript, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    proc.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    proc.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => { proc.kill('SIGKILL'); reject(new Error(`tsms-client did not exit: ${args.join(' ')}`)); }, 30000);
    proc.on('exit', (code) => { clearTimeout(timer); resolve({ code, stdout, stderr }); });
  });
}

describe('tsms-client', () => {
  const dir = tempDir('tsms-client-cli-');
  let server: RunningServer;
  let grpc: string[];
  let rest: string[];

  before(async () => {
    writeRepository(dir.path, { dummy: { 1: dummyModel() }, detector: { 1: detectorModel(24, 32) } });
    server = await startServer({ args: ['--config_path', writeConfig(dir.path), '--file_system_poll_wait_seconds', '0'] });
    grpc = ['--address', server.grpcAddress];
    rest = ['--transport', 'rest', '--address', server.restUrl];
    writeFileSync(path.join(dir.path, 'x.npy'), encodeNpy(tensor('FP32', [1, 10], Float32Array.from({ length: 10 }, (_, i) => i))));
    writeFileSync(path.join(dir.path, 'x.json'), JSON.stringify([[0, 1, 2, 3, 4, 5, 6, 7, 8, 9]]));
    writeFileSync(path.join(dir.path, 'typed.json'), JSON.stringify({ dtype: 'FP32', shape: [1, 10], data: [9, 8, 7, 6, 5, 4, 3, 2, 1, 0] }));
    await sharp({ create: { width: 64, height: 48, channels: 3, background: { r: 200, g: 10, b: 10 } } }).png().toFile(path.join(dir.path, 'red.png'));
    mkdirSync(path.join(dir.path, 'batch'));
    for (let i = 0; i < 5; i++) writeFileSync(path.join(dir.path, 'batch', `in${i}.json`), JSON.stringify([[i, i, i, i, i, i, i, i, i, i]]));
    writeFileSync(path.join(dir.path, 'batch', 'notes.txt'), 'not an input');
  });

  after(async () => {
    await server?.stop();
    dir.remove();
  });

  function writeConfig(root: string): string {
    const file = path.join(root, 'config.json');
    writeFileSync(file, JSON.stringify({ model_config_list: ['dummy', 'detector'].map((name) => ({ config: { name, base_path: path.join(root, name) } })) }));
    return file;
  }

  it('status and metadata print JSON, over both protocols', async () => {
    const tfs = await runClient([...grpc, '--protocol', 'tfs', 'status', 'dummy']);
    assert.equal(tfs.code, 0, tfs.stderr);
    assert.deepEqual(JSON.parse(tfs.stdout), [{ version: '1', state: 'AVAILABLE', errorCode: 'OK', errorMessage: 'OK' }]);
    const meta = await runClient([...rest, 'metadata', 'dummy']);
    assert.equal(meta.code, 0, meta.stderr);
    const parsed = JSON.parse(meta.stdout);
    assert.deepEqual(parsed.inputs, [{ name: 'b', dtype: 'FP32', shape: [1, 10] }]);
    assert.equal(parsed.platform, 'onnxruntime_onnx');
  });

  it('predict from .npy, JSON and typed JSON, with top classes', async () => {
    for (const [file, first] of [['x.npy', 1], ['x.json', 1], ['typed.json', 10]] as const) {
      const r = await runClient([...grpc, '--protocol', 'tfs', 'predict', 'dummy', '--input', `b=${path.join(dir.path, file)}`, '--top', '2']);
      assert.equal(r.code, 0, r.stderr);
      const out = JSON.parse(r.stdout);
      assert.equal(out.model_name, 'dummy');
      assert.deepEqual(out.outputs.a.shape, [1, 10]);
      assert.equal(out.outputs.a.data[0][0], first);
      assert.deepEqual(out.outputs['a:top2'][0].map((t: { class: number }) => t.class), file === 'typed.json' ? [0, 1] : [9, 8]);
    }
  });

  it('predict writes outputs as .npy files', async () => {
    const out = path.join(dir.path, 'npy-out');
    const r = await runClient([...rest, 'infer', 'dummy', '--input', path.join(dir.path, 'x.json'), '--format', 'npy', '--out', out]);
    assert.equal(r.code, 0, r.stderr);
    const a = decodeNpy(readFileSync(path.join(out, 'a.npy')));
    assert.deepEqual([a.dtype, a.shape, [...a.data as Float32Array]], ['FP32', [1, 10], [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]]);
  });

  it('predict from an image: layout and size from the model metadata', async () => {
    const r = await runClient([...grpc, 'predict', 'detector', '--input', path.join(dir.path, 'red.png')]);
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout).outputs.detection_out;
    assert.deepEqual(out.shape, [1, 1, DETECTIONS.length, 7]);
    assert.deepEqual(out.data[0][0][0].map((v: number) => Math.round(v * 100) / 100), DETECTIONS[0]);
    // An explicit size the model does not take is the server's error, reported with its code.
    const bad = await runClient([...grpc, 'predict', 'detector', '--input', path.join(dir.path, 'red.png'), '--resize', '10x10']);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /ModelInfer failed: INVALID_ARGUMENT: Invalid input shape - Expected: \(1,3,24,32\); Actual: \(1,3,10,10\)/);
  });

  it('a folder runs one request per input file, with progress on stderr', async () => {
    const out = path.join(dir.path, 'batch-out');
    const r = await runClient([...grpc, 'predict', 'dummy', '--input', `b=${path.join(dir.path, 'batch')}`, '--format', 'npy', '--out', out]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(readdirSync(out).sort(), ['in0.a.npy', 'in1.a.npy', 'in2.a.npy', 'in3.a.npy', 'in4.a.npy']);
    assert.deepEqual([...decodeNpy(readFileSync(path.join(out, 'in3.a.npy'))).data as Float32Array], new Array(10).fill(4));
    assert.match(r.stderr, /\] 1\/5 /);
    assert.match(r.stderr, /\[#{30}\] 5\/5 /);
    const json = await runClient([...rest, 'predict', 'dummy', '--input', path.join(dir.path, 'batch')]);
    assert.equal(json.code, 0, json.stderr);
    const lines = json.stdout.trim().split('\n').map((l) => JSON.parse(l));
    assert.deepEqual(lines.map((l) => path.basename(l.file)), ['in0.json', 'in1.json', 'in2.json', 'in3.json', 'in4.json']);
  });

  it('reload: TFS REST prints the config statuses; KServe reloads the named model', async () => {
    const tfs = await runClient([...rest, '--protocol', 'tfs', 'reload']);
    assert.equal(tfs.code, 0, tfs.stderr);
    assert.deepEqual(Object.keys(JSON.parse(tfs.stdout).models).sort(), ['detector', 'dummy']);
    const ks = await runClient([...grpc, 'reload', 'dummy']);
    assert.equal(ks.code, 0, ks.stderr);
    const tfsGrpc = await runClient([...grpc, '--protocol', 'tfs', 'reload']);
    assert.equal(tfsGrpc.code, 0, tfsGrpc.stderr);
  });

  it('errors: server errors exit 1 with code and text, usage errors exit 64', async () => {
    const missing = await runClient([...rest, 'status', 'nope']);
    assert.equal(missing.code, 1);
    assert.equal(missing.stderr, 'tsms-client: ModelReady failed: HTTP 404: Model with requested name is not found\n');
    const usage = await runClient([...grpc, 'predict', 'dummy']);
    assert.equal(usage.code, 64);
    assert.match(usage.stderr, /predict needs at least one --input/);
    const protocol = await runClient(['--protocol', 'soap', 'status', 'dummy']);
    assert.equal(protocol.code, 64);
    assert.match(protocol.stderr, /--protocol must be one of tfs, kserve/);
    const help = await runClient(['--help']);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /^Usage: tsms-client/);
  });
});
