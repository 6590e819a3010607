/**
 * The server the process-level fuzz tests attack: a repository of small generated models whose
 * results are easy to predict (identity for every dtype, +1, a sum, ×2 and −x, an NHWC image
 * identity), what each model computes (the oracle), and a "still serves" check run after each batch.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import type { DType } from '../../src/core/dtype.js';
import { addTwoInputsModel, dummyModel, identityModel, tempDir, twoOutputsModel, writeRepository } from './models.js';
import { startServer, type RunningServer } from './server.js';
import { mapFloat32, float32s, type Elements } from './tensor-oracle.js';

export const IDENTITY_DTYPES: readonly DType[] = ['FP32', 'FP64', 'FP16', 'INT8', 'UINT8', 'INT16', 'UINT16', 'INT32', 'UINT32', 'INT64', 'UINT64', 'BOOL', 'STRING'];

export interface FuzzModel {
  readonly name: string;
  /** Inputs with their shapes; -1 is the symbolic batch. */
  readonly inputs: readonly { readonly name: string; readonly dtype: DType; readonly shape: readonly number[] }[];
  readonly outputs: readonly string[];
  /** What the model makes of its inputs (all present and valid). */
  compute(inputs: ReadonlyMap<string, Elements>): Map<string, Elements>;
}

const fp32 = (e: Elements | undefined): Elements => {
  assert.ok(e && e.dtype === 'FP32', 'FP32 input expected');
  return e;
};

export const FUZZ_MODELS: readonly FuzzModel[] = [
  {
    name: 'dummy', inputs: [{ name: 'b', dtype: 'FP32', shape: [1, 10] }], outputs: ['a'],
    compute: (i) => new Map([['a', mapFloat32(fp32(i.get('b')), (x) => x + 1)]]),
  },
  {
    name: 'add', inputs: [{ name: 'input1', dtype: 'FP32', shape: [1, 10] }, { name: 'input2', dtype: 'FP32', shape: [1, 10] }], outputs: ['sum'],
    compute: (i) => {
      const b = float32s((fp32(i.get('input2')) as { bytes: Uint8Array }).bytes);
      return new Map([['sum', mapFloat32(fp32(i.get('input1')), (x, k) => x + b[k]!)]]);
    },
  },
  {
    name: 'two', inputs: [{ name: 'x', dtype: 'FP32', shape: [-1, 4] }], outputs: ['doubled', 'negated'],
    compute: (i) => new Map([['doubled', mapFloat32(fp32(i.get('x')), (x) => x * 2)], ['negated', mapFloat32(fp32(i.get('x')), (x) => -x)]]),
  },
  ...IDENTITY_DTYPES.map((dtype): FuzzModel => ({
    name: `id_${dtype.toLowerCase()}`, inputs: [{ name: 'in', dtype, shape: [-1, 3] }], outputs: ['out'],
    compute: (i) => new Map([['out', i.get('in')!]]),
  })),
];

/** An NHWC FP32 identity [batch,5,6,3]: encoded images sent to it come back as pixels, resized to 6×5. */
export const IMAGE_MODEL = { name: 'img', height: 5, width: 6, channels: 3 } as const;

export const modelByName = new Map(FUZZ_MODELS.map((m) => [m.name, m]));

/** Names that must never reach anything but a "not found"/"invalid" answer. */
export const HOSTILE_NAMES: readonly string[] = [
  '', '..', '.', ' ..', '.. ', '../dummy', '..\\dummy', 'dummy/../dummy', '/etc/passwd', 'dummy\0', '\0', '%2e%2e', '%2F', 'a/b',
  'dummy%00', 'x'.repeat(4096), '\u2024\u2024', 'ｄｕｍｍｙ', 'dummy ', ' dummy', 'DUMMY', '\ud800', 'dummy\n', 'model..', '...',
];

export interface FuzzServer {
  readonly server: RunningServer;
  stop(): Promise<number | null>;
}

export async function startFuzzServer(): Promise<FuzzServer> {
  const dir = tempDir('tsms-fuzz-');
  const layout: Record<string, Record<number, Uint8Array>> = {
    dummy: { 1: dummyModel(1) },
    add: { 1: addTwoInputsModel() },
    two: { 1: twoOutputsModel() },
    [IMAGE_MODEL.name]: { 1: identityModel('FP32', ['batch', IMAGE_MODEL.height, IMAGE_MODEL.width, IMAGE_MODEL.channels]) },
  };
  for (const dtype of IDENTITY_DTYPES) layout[`id_${dtype.toLowerCase()}`] = { 1: identityModel(dtype) };
  writeRepository(dir.path, layout);
  const configPath = path.join(dir.path, 'config.json');
  writeFileSync(configPath, JSON.stringify({
    model_config_list: Object.keys(layout).map((name) => ({ config: { name, base_path: path.join(dir.path, name) } })),
  }));
  // Polling off: nothing but the fuzzed requests changes the server's state.
  const server = await startServer({ args: ['--config_path', configPath, '--file_system_poll_wait_seconds', '0'], timeoutMs: 60000 });
  return {
    server,
    async stop() {
      const code = await server.stop();
      dir.remove();
      return code;
    },
  };
}

const TEN = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];

/** A valid TFS REST predict on dummy must still give b + 1 (run after every fuzz batch). */
export async function assertStillServesRest(server: RunningServer): Promise<void> {
  assert.equal(server.proc.exitCode, null, `server exited:\n${server.output().slice(-3000)}`);
  const res = await fetch(`${server.restUrl}/v1/models/dummy:predict`, { method: 'POST', body: JSON.stringify({ instances: [TEN] }) });
  assert.equal(res.status, 200);
  assert.deepEqual(await res.json(), { predictions: [TEN.map((v) => v + 1)] });
}

/**
 * Lines of the server log at error level (pino level 50+): bugs reached by the fuzzer show up
 * here. OVMS's two client-caused 500s (SPEC §6.1) are logged as errors too and are left out.
 */
export function serverErrors(server: RunningServer): string[] {
  return server.output().split('\n')
    .filter((l) => /"level":(5|6)\d/.test(l))
    .filter((l) => !/"msg":"REST request failed: (Internal allocation error|Response parsing to JSON error)/.test(l));
}
