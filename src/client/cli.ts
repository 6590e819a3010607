#!/usr/bin/env node
/**
 * `tsms-client`: status, metadata, predict/infer (from .npy, JSON or image files, or every file of
 * a folder with progress on stderr), and reload, over either protocol and transport.
 */
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { isStringData, type Tensor } from '../core/tensor.js';
import { ClientError } from './errors.js';
import { INPUT_EXTENSIONS, tensorFromFile } from './input-files.js';
import { createClient, type CreateClientOptions } from './index.js';
import type { ImageOptions } from './image.js';
import { encodeNpy } from './npy.js';
import { nest, tensorValues, topK } from './tensors.js';
import type { InferResult, ModelMetadata, ServingClient } from './types.js';
import { TfsRestClient } from './tfs-rest.js';

const USAGE = `Usage: tsms-client [options] <command> [arguments]

Commands:
  status <model>                 version states and errors
  metadata <model>               inputs and outputs (name, dtype, shape)
  predict <model> --input [name=]FILE|DIR ...
  infer <model> ...              same as predict
  reload [model ...]             TFS: re-read config.json; KServe: reload the models

Connection:
  --address HOST:PORT            default localhost:9000 (gRPC) or localhost:8000 (REST)
  --protocol tfs|kserve          default kserve
  --transport grpc|rest          default grpc
  --timeout MS                   per call, default 30000
  --version N                    model version (default: the highest available)
  --api-key-file FILE            send the key in it as Authorization: Bearer
  --tls-ca FILE                  gRPC over TLS trusting this CA (--tls-cert/--tls-key for mTLS);
                                 for REST over TLS give an https:// address

Predict:
  --input [NAME=]PATH            .npy, .json (nested array or {"dtype","shape","data"}) or an image;
                                 a folder runs one request per file (progress on stderr); NAME may be
                                 left out when the model has one input
  --outputs a,b                  only these outputs
  --format json|npy              output as JSON on stdout (default) or .npy files in --out
  --out DIR                      where .npy results go (default .)
  --top K                        also print the K best classes of each output row
Images (layout and size default to the model's input shape):
  --resize WxH  --layout NCHW|NHWC  --order RGB|BGR  --dtype FP32|UINT8
  --mean M  --scale S             value = (pixel - M) / S; one number or R,G,B
`;

interface Args {
  command: string;
  positionals: string[];
  values: Record<string, string | string[] | boolean | undefined>;
}

function parse(argv: string[]): Args {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      address: { type: 'string' }, protocol: { type: 'string' }, transport: { type: 'string' },
      timeout: { type: 'string' }, version: { type: 'string' },
      input: { type: 'string', multiple: true }, outputs: { type: 'string' }, format: { type: 'string' },
      out: { type: 'string' }, top: { type: 'string' },
      resize: { type: 'string' }, layout: { type: 'string' }, order: { type: 'string' },
      scale: { type: 'string' }, mean: { type: 'string' }, dtype: { type: 'string' },
      'api-key-file': { type: 'string' }, 'tls-ca': { type: 'string' }, 'tls-cert': { type: 'string' }, 'tls-key': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  return { command: positionals[0] ?? '', positionals: positionals.slice(1), values };
}

class UsageError extends Error {}

function choice<T extends string>(name: string, value: unknown, allowed: readonly T[], fallback: T): T {
  if (value === undefined) return fallback;
  const v = String(value);
  if (!(allowed as readonly string[]).includes(v)) throw new UsageError(`--${name} must be one of ${allowed.join(', ')}`);
  return v as T;
}

function positiveInt(name: string, value: unknown): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new UsageError(`--${name} must be a non-negative integer`);
  return n;
}

function clientOptions(v: Args['values']): CreateClientOptions {
  const transport = choice('transport', v['transport'], ['grpc', 'rest'] as const, 'grpc');
  const timeoutMs = positiveInt('timeout', v['timeout']);
  return {
    protocol: choice('protocol', v['protocol'], ['tfs', 'kserve'] as const, 'kserve'),
    transport,
    address: String(v['address'] ?? (transport === 'grpc' ? 'localhost:9000' : 'localhost:8000')),
    ...(timeoutMs !== undefined && { timeoutMs }),
    ...(v['api-key-file'] !== undefined && { apiKey: readFileSync(String(v['api-key-file']), 'utf8').trim() }),
    ...((v['tls-ca'] ?? v['tls-cert']) !== undefined && {
      tls: {
        ...(v['tls-ca'] !== undefined && { ca: readFileSync(String(v['tls-ca'])) }),
        ...(v['tls-cert'] !== undefined && { cert: readFileSync(String(v['tls-cert'])) }),
        ...(v['tls-key'] !== undefined && { key: readFileSync(String(v['tls-key'])) }),
      },
    }),
  };
}

function imageOptions(v: Args['values']): ImageOptions {
  const size = v['resize'] === undefined ? undefined : /^(\d+)x(\d+)$/i.exec(String(v['resize']));
  if (v['resize'] !== undefined && !size) throw new UsageError('--resize must be WIDTHxHEIGHT, e.g. 224x224');
  /** One number, or three (R,G,B) separated by commas. */
  const num = (name: string): number | [number, number, number] | undefined => {
    if (v[name] === undefined) return undefined;
    const parts = String(v[name]).split(',').map(Number);
    if ((parts.length !== 1 && parts.length !== 3) || parts.some((n) => !Number.isFinite(n) || (name === 'scale' && n === 0))) {
      throw new UsageError(`--${name} must be a number or three comma-separated numbers (R,G,B)${name === 'scale' ? ', none of them 0' : ''}`);
    }
    return parts.length === 1 ? parts[0]! : (parts as [number, number, number]);
  };
  return {
    ...(size && { width: Number(size[1]), height: Number(size[2]) }),
    ...(v['layout'] !== undefined && { layout: choice('layout', v['layout'], ['NCHW', 'NHWC'] as const, 'NHWC') }),
    ...(v['order'] !== undefined && { order: choice('order', v['order'], ['RGB', 'BGR'] as const, 'RGB') }),
    ...(v['dtype'] !== undefined && { dtype: choice('dtype', v['dtype'], ['FP32', 'UINT8'] as const, 'FP32') }),
    ...(num('scale') !== undefined && { scale: num('scale')! }),
    ...(num('mean') !== undefined && { mean: num('mean')! }),
  };
}

/** Tensor as JSON: dtype, shape and nested values (64-bit integers as exact numbers in text). */
function tensorJson(t: Tensor): { dtype: string; shape: number[]; data: unknown } {
  const values = tensorValues(t).map((v) => (typeof v === 'bigint' ? (Number.isSafeInteger(Number(v)) ? Number(v) : v.toString()) : v));
  return { dtype: t.dtype, shape: [...t.shape], data: nest(values, t.shape) };
}

function resultJson(r: InferResult, top: number | undefined): object {
  const outputs: Record<string, unknown> = {};
  for (const [name, t] of Object.entries(r.outputs)) {
    outputs[name] = tensorJson(t);
    if (top && !isStringData(t.data) && t.shape.length > 0) {
      const values = Array.from(tensorValues(t), Number);
      const row = t.shape[t.shape.length - 1]!;
      const rows = [];
      for (let i = 0; i + row <= values.length && row > 0; i += row) rows.push(topK(values.slice(i, i + row), top).map((x) => ({ class: x.index, score: x.value })));
      outputs[`${name}:top${top}`] = rows;
    }
  }
  return { model_name: r.modelName, model_version: r.modelVersion, outputs };
}

interface InputArg {
  readonly name: string | undefined;
  readonly path: string;
}

function inputArgs(v: Args['values']): InputArg[] {
  const list = (v['input'] as string[] | undefined) ?? [];
  if (list.length === 0) throw new UsageError('predict needs at least one --input');
  return list.map((s) => {
    const eq = s.indexOf('=');
    // "name=path", unless what precedes '=' looks like a path of its own.
    return eq > 0 && !s.slice(0, eq).includes('/') ? { name: s.slice(0, eq), path: s.slice(eq + 1) } : { name: undefined, path: s };
  });
}

async function predict(client: ServingClient, model: string, v: Args['values']): Promise<void> {
  const version = positiveInt('version', v['version']);
  const format = choice('format', v['format'], ['json', 'npy'] as const, 'json');
  const outDir = String(v['out'] ?? '.');
  const top = positiveInt('top', v['top']);
  const outputs = v['outputs'] === undefined ? undefined : String(v['outputs']).split(',').map((s) => s.trim()).filter(Boolean);
  const image = imageOptions(v);
  const meta: ModelMetadata = await client.metadata(model, version === undefined ? {} : { version });
  const args = inputArgs(v);
  const named = args.map((a) => {
    const name = a.name ?? (meta.inputs.length === 1 ? meta.inputs[0]!.name : undefined);
    if (!name) throw new UsageError(`model ${model} has ${meta.inputs.length} inputs (${meta.inputs.map((i) => i.name).join(', ')}): write --input NAME=FILE`);
    return { name, path: a.path, spec: meta.inputs.find((i) => i.name === name) };
  });
  const folders = named.filter((n) => statSync(n.path).isDirectory());
  if (folders.length > 1) throw new UsageError('only one --input may be a folder');
  const folder = folders[0];
  const files = folder
    ? (await readdir(folder.path)).filter((f) => INPUT_EXTENSIONS.has(path.extname(f).toLowerCase())).sort().map((f) => path.join(folder.path, f))
    : [undefined];
  if (folder && files.length === 0) throw new UsageError(`${folder.path} has no .npy, .json or image files`);
  const fixed = new Map<string, Tensor>();
  for (const n of named) if (n !== folder) fixed.set(n.name, await tensorFromFile(n.path, n.spec, image));

  if (format === 'npy') await mkdir(outDir, { recursive: true });
  const started = Date.now();
  let failures = 0;
  for (let i = 0; i < files.length; i++) {
    const file = files[i];
    const inputs = new Map(fixed);
    if (folder && file) inputs.set(folder.name, await tensorFromFile(file, folder.spec, image));
    let result: InferResult;
    try {
      result = await client.infer(model, inputs, { ...(version !== undefined && { version }), ...(outputs && { outputs }) });
    } catch (err) {
      if (!folder) throw err;
      failures++;
      process.stderr.write(`${path.basename(file!)}: ${(err as Error).message}\n`);
      continue;
    }
    const stem = file ? `${path.basename(file, path.extname(file))}.` : '';
    if (format === 'npy') {
      for (const [name, t] of Object.entries(result.outputs)) await writeFile(path.join(outDir, `${stem}${safeName(name)}.npy`), encodeNpy(t));
    } else {
      const json = resultJson(result, top);
      process.stdout.write(`${JSON.stringify(file ? { file, ...json } : json)}\n`);
    }
    if (folder) progress(i + 1, files.length, started, failures);
  }
  if (folder) process.stderr.write('\n');
  if (failures > 0) throw new ClientError({ call: 'predict', code: 0, status: 'PARTIAL', details: `${failures} of ${files.length} requests failed`, transport: client.transport });
}

function safeName(name: string): string {
  return name.replace(/[^A-Za-z0-9_.-]/g, '_');
}

function progress(done: number, total: number, started: number, failures: number): void {
  const elapsed = (Date.now() - started) / 1000;
  const rate = done / Math.max(elapsed, 1e-3);
  const eta = (total - done) / rate;
  const width = 30;
  const bar = '#'.repeat(Math.round((done / total) * width)).padEnd(width, '.');
  process.stderr.write(`\r[${bar}] ${done}/${total} ${rate.toFixed(1)}/s eta ${eta.toFixed(0)}s${failures ? ` failed ${failures}` : ''}`);
}

async function run(argv: string[]): Promise<number> {
  const args = parse(argv);
  if (args.values['help'] || args.command === '') {
    process.stdout.write(USAGE);
    return args.command === '' && !args.values['help'] ? 64 : 0;
  }
  const client = createClient(clientOptions(args.values));
  const version = positiveInt('version', args.values['version']);
  const callOpts = version === undefined ? {} : { version };
  const model = args.positionals[0];
  const needModel = () => {
    if (!model) throw new UsageError(`${args.command} needs a model name`);
    return model;
  };
  try {
    switch (args.command) {
      case 'status':
        print(await client.status(needModel(), callOpts));
        return 0;
      case 'metadata':
        print(await client.metadata(needModel(), callOpts));
        return 0;
      case 'predict':
      case 'infer':
        await predict(client, needModel(), args.values);
        return 0;
      case 'reload':
        if (client instanceof TfsRestClient) print(await client.reloadConfig());
        else await client.reload(args.positionals.length > 0 ? args.positionals : undefined);
        return 0;
      default:
        throw new UsageError(`unknown command ${args.command}`);
    }
  } finally {
    client.close();
  }
}

function print(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

run(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    if (err instanceof UsageError || (err as { code?: string }).code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' || (err as { code?: string }).code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
      process.stderr.write(`tsms-client: ${(err as Error).message}\n\n${USAGE}`);
      process.exitCode = 64;
    } else if (err instanceof ClientError) {
      process.stderr.write(`tsms-client: ${err.message}\n`);
      process.exitCode = 1;
    } else {
      process.stderr.write(`tsms-client: ${(err as Error).message ?? String(err)}\n`);
      process.exitCode = 1;
    }
  },
);
