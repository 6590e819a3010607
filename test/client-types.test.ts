/**
 * The client ships type declarations: a strict TypeScript consumer compiles against the emitted
 * dist/src/client/index.d.ts, and a wrong call is a type error there (so the types are not `any`).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { tempDir } from './helpers/models.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const declarations = path.join(root, 'dist/src/client/index.d.ts');
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');

function typeCheck(source: string): { status: number | null; output: string } {
  const dir = tempDir('tsms-types-');
  try {
    const file = path.join(dir.path, 'consumer.ts');
    writeFileSync(file, source.replace('CLIENT', JSON.stringify(path.join(root, 'dist/src/client/index.js'))));
    const run = spawnSync(process.execPath, [tsc, '--noEmit', '--strict', '--module', 'nodenext', '--moduleResolution', 'nodenext',
      '--target', 'es2022', '--skipLibCheck', '--types', 'node', '--typeRoots', path.join(root, 'node_modules/@types'), file], { encoding: 'utf8' });
    return { status: run.status, output: `${run.stdout}${run.stderr}` };
  } finally {
    dir.remove();
  }
}

test('the build emits declarations for the client', () => {
  assert.ok(existsSync(declarations), `${declarations} is missing: tsconfig.json must keep "declaration": true`);
});

test('a strict consumer of the client type-checks', () => {
  const { status, output } = typeCheck(`
import { createClient, tensor, ClientError } from CLIENT;
const client = createClient({ protocol: 'kserve', transport: 'grpc', address: 'localhost:9000' });
async function main(): Promise<Float32Array> {
  const { outputs } = await client.infer('dummy', { b: tensor('FP32', [1, 10], new Float32Array(10)) }, { timeoutMs: 1000 });
  const a = outputs['a'];
  if (!a || !(a.data instanceof Float32Array)) {
    throw new ClientError({ call: 'infer', code: 0, status: 'BAD_RESPONSE', details: 'no FP32 output a', transport: 'grpc' });
  }
  return a.data;
}
void main;
client.close();
`);
  assert.equal(status, 0, output);
});

test('a wrong call is a type error, so the declarations are not any', () => {
  const { status, output } = typeCheck(`
import { createClient } from CLIENT;
const client = createClient({ protocol: 'kserve', transport: 'grpc', address: 'localhost:9000' });
void client.infer(42, {});
`);
  assert.notEqual(status, 0);
  assert.match(output, /consumer\.ts\(4,\d+\): error TS2345: Argument of type 'number' is not assignable to parameter of type 'string'/);
});
