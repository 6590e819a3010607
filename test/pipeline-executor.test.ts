/**
 * The pipeline executor in process: scheduling (independent nodes at once, a node as soon as its
 * inputs are there), demultiplexing with 0, 1 and many branches, gathering in order however the
 * branches finish, tensors handed on without copies, and failures that name their node. Node work
 * is plain JavaScript here (a NodeRunner); the server tests run real models.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { DType } from '../src/core/dtype.js';
import { ServingError } from '../src/core/errors.js';
import type { Servable } from '../src/core/servable.js';
import type { Tensor, TensorMap, TensorSpec } from '../src/core/tensor.js';
import { parsePipelineConfig } from '../src/pipeline/definition.js';
import { executePipeline, type NodeOutputs, type NodeRunner } from '../src/pipeline/executor.js';
import { validatePipeline, type ValidatedNode, type ValidatedPipeline } from '../src/pipeline/validate.js';

const spec = (name: string, shape: number[], dtype: DType = 'FP32'): TensorSpec => ({ name, dtype, shape });
const f32 = (shape: number[], values: number[]): Tensor => ({ dtype: 'FP32', shape, data: Float32Array.from(values) });
const values = (t: Tensor | undefined) => [...(t!.data as Float32Array)];

/** Model "inc": x [-1,-1] → y (same shape). Custom "split": x [1,-1] → items [-1,1,-1]. */
function build(raw: object): ValidatedPipeline {
  const model = { name: 'inc', version: 1, inputs: [spec('x', [-1, -1])], outputs: [spec('y', [-1, -1])], infer: () => Promise.reject(new Error('unused')) } as Servable;
  const pair = { name: 'pair', version: 1, inputs: [spec('a', [-1, -1]), spec('b', [-1, -1])], outputs: [spec('sum', [-1, -1])], infer: () => Promise.reject(new Error('unused')) } as Servable;
  const stack = { name: 'stack', version: 1, inputs: [spec('x', [-1, -1, -1])], outputs: [spec('y', [-1, -1, -1])], infer: () => Promise.reject(new Error('unused')) } as Servable;
  const pass = { name: 'pass', version: 1, inputs: [spec('x', [-1, -1])], outputs: [spec('y', [-1, -1])], infer: () => Promise.reject(new Error('unused')) } as Servable;
  const models: Record<string, Servable> = { inc: model, pair, stack, pass };
  return validatePipeline(parsePipelineConfig({ name: 'p', ...raw }), {
    availableVersion: (name) => models[name],
    usesDynamicParameters: () => false,
  }, () => ({ inputs: [spec('x', [1, -1])], outputs: [spec('items', [-1, 1, -1])] }));
}

const src = (node: string, item: string) => ({ node_name: node, data_item: item });
const node = (name: string, model: string, inputs: Record<string, ReturnType<typeof src>>, outputs: [string, string][], extra: object = {}) => ({
  name, type: 'DL model', model_name: model,
  inputs: Object.entries(inputs).map(([k, v]) => ({ [k]: v })),
  outputs: outputs.map(([data_item, alias]) => ({ data_item, alias })),
  ...extra,
});
const splitter = (name: string, input: ReturnType<typeof src>, extra: object = { demultiply_count: 0 }, library = 'split') => ({
  name, type: 'custom', library_name: library, inputs: [{ x: input }], outputs: [{ data_item: 'items', alias: 'items' }], ...extra,
});

/** Deferred: a promise settled from outside, to control when a node finishes. */
function deferred<T>(): { promise: Promise<T>; resolve(v: T): void; reject(e: unknown): void } {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => { resolve = res; reject = rej; });
  return { promise, resolve, reject };
}

/**
 * inc adds 1 to every value; pair adds a and b; split makes x[0] items, item i = x + i (rows of
 * [1, width]), twice the same with 2 items always; stack and pass return their input. `hooks` can
 * delay a node's work or fail it.
 */
function runner(hooks: { before?: (node: ValidatedNode, inputs: TensorMap, signal: AbortSignal) => Promise<void> | void } = {}, log: string[] = []): NodeRunner {
  return {
    async run(node, inputs, outputNames, signal): Promise<NodeOutputs> {
      log.push(`start ${node.name}`);
      await hooks.before?.(node, inputs, signal);
      let out: NodeOutputs;
      const model = node.config!.modelName ?? node.config!.libraryName;
      if (model === 'inc') {
        const x = inputs.get('x')!;
        out = new Map([['y', { dtype: 'FP32', shape: x.shape, data: (x.data as Float32Array).map((v) => v + 1) }]]);
      } else if (model === 'pair') {
        const a = inputs.get('a')!.data as Float32Array;
        const b = inputs.get('b')!.data as Float32Array;
        out = new Map([['sum', { dtype: 'FP32', shape: inputs.get('a')!.shape, data: a.map((v, i) => v + b[i]!) }]]);
      } else if (model === 'stack' || model === 'pass') {
        out = new Map([['y', inputs.get('x')!]]);
      } else {
        const x = inputs.get('x')!;
        const width = x.shape[1]!;
        const n = model === 'twice' ? 2 : (x.data as Float32Array)[0]!;
        const data = new Float32Array(n * width);
        for (let i = 0; i < n; i++) for (let j = 0; j < width; j++) data[i * width + j] = (x.data as Float32Array)[j]! + i;
        out = new Map([['items', { dtype: 'FP32', shape: [n, 1, width], data }]]);
      }
      log.push(`end ${node.name}`);
      assert.deepEqual([...out.keys()].sort(), [...outputNames].sort());
      return out;
    },
  };
}

describe('pipeline executor', () => {
  test('a chain hands each tensor on as the same object, and the request tensor reaches the response untouched', async () => {
    const p = build({
      inputs: ['x'],
      nodes: [node('a', 'stack', { x: src('request', 'x') }, [['y', 'y']]), node('b', 'stack', { x: src('a', 'y') }, [['y', 'y']])],
      outputs: [{ out: src('b', 'y') }, { echo: src('request', 'x') }],
    });
    const x = f32([1, 1, 3], [1, 2, 3]);
    const out = await executePipeline(p, new Map([['x', x]]), runner());
    assert.equal(out.get('out'), x);
    assert.equal(out.get('echo'), x);
  });

  test('independent nodes run at the same time; a node starts once its own inputs are ready', async () => {
    const p = build({
      inputs: ['x'],
      nodes: [
        node('slow', 'inc', { x: src('request', 'x') }, [['y', 'y']]),
        node('fast', 'inc', { x: src('request', 'x') }, [['y', 'y']]),
        node('after_fast', 'inc', { x: src('fast', 'y') }, [['y', 'y']]),
        node('join', 'pair', { a: src('slow', 'y'), b: src('after_fast', 'y') }, [['sum', 'sum']]),
      ],
      outputs: [{ out: src('join', 'sum') }],
    });
    const slowGate = deferred<void>();
    const log: string[] = [];
    const run = executePipeline(p, new Map([['x', f32([1, 2], [1, 2])]]), runner({
      before: async (n) => {
        if (n.name === 'slow') await slowGate.promise;
        // after_fast starting proves it did not wait for the slow branch; then let slow go.
        if (n.name === 'after_fast') slowGate.resolve();
      },
    }, log));
    const out = await run;
    assert.deepEqual(values(out.get('out')), [5, 7]); // (x+1) + (x+2)
    assert.deepEqual(log.slice(0, 2).sort(), ['start fast', 'start slow']);
    assert.ok(log.indexOf('start after_fast') < log.indexOf('end slow'), log.join(', '));
    assert.equal(log.at(-2), 'start join');
  });

  for (const n of [1, 2, 7]) {
    test(`a dynamic demultiplexer with ${n} item(s): branches in parallel, gathered in order`, async () => {
      const p = build({
        inputs: ['x'],
        nodes: [splitter('split', src('request', 'x')), node('m', 'inc', { x: src('split', 'items') }, [['y', 'y']])],
        outputs: [{ out: src('m', 'y') }],
      });
      let running = 0;
      let peak = 0;
      // Branch i finishes after branch i+1: the gather must still put it first.
      const run = executePipeline(p, new Map([['x', f32([1, 2], [n, 10])]]), runner({
        before: async (node, inputs) => {
          if (node.name !== 'm') return;
          running++;
          peak = Math.max(peak, running);
          const first = (inputs.get('x')!.data as Float32Array)[0]!;
          await new Promise((r) => setTimeout(r, 5 * (n - (first - n))));
          running--;
        },
      }));
      const out = (await run).get('out')!;
      assert.deepEqual(out.shape, [n, 1, 2]);
      const expected: number[] = [];
      for (let i = 0; i < n; i++) expected.push(n + i + 1, 10 + i + 1);
      assert.deepEqual(values(out), expected);
      assert.equal(peak, n);
    });
  }

  test('a dynamic demultiplexer with no items aborts the request (ABORTED)', async () => {
    const p = build({
      inputs: ['x'],
      nodes: [splitter('split', src('request', 'x')), node('m', 'inc', { x: src('split', 'items') }, [['y', 'y']])],
      outputs: [{ out: src('m', 'y') }],
    });
    const log: string[] = [];
    await assert.rejects(executePipeline(p, new Map([['x', f32([1, 2], [0, 10])]]), runner({}, log)), (e: unknown) => {
      assert.ok(e instanceof ServingError);
      assert.equal(e.code, 'ABORTED');
      assert.equal(e.message, 'Pipeline execution aborted due to no content from custom node - node: split');
      return true;
    });
    assert.ok(!log.includes('start m'));
  });

  test('branches get views of the demultiplexed tensor, and a gather right after gives it back without a copy', async () => {
    const p = build({
      inputs: ['x'],
      nodes: [
        splitter('split', src('request', 'x')),
        node('s', 'pass', { x: src('split', 'items') }, [['y', 'y']]),
      ],
      outputs: [{ out: src('s', 'y') }],
    });
    const seen: Tensor[] = [];
    let produced: Float32Array | undefined;
    const base = runner({ before: (n, inputs) => { if (n.name === 's') seen.push(inputs.get('x')!); } });
    const out = await executePipeline(p, new Map([['x', f32([1, 3], [3, 0, 0])]]), {
      async run(n, inputs, names, signal) {
        const r = await base.run(n, inputs, names, signal);
        if (n.name === 'split') produced = (r.get('items') as Tensor).data as Float32Array;
        return r;
      },
    });
    assert.equal(seen.length, 3);
    for (const t of seen) assert.equal((t.data as Float32Array).buffer, produced!.buffer);
    const gathered = out.get('out')!;
    assert.deepEqual(gathered.shape, [3, 1, 3]);
    assert.equal((gathered.data as Float32Array).buffer, produced!.buffer);
  });

  test('gather_from_node closes a level mid-pipeline; nested demultiplexers gather into two dimensions', async () => {
    const p = build({
      inputs: ['x'],
      nodes: [
        splitter('outer', src('request', 'x')),
        splitter('inner', src('outer', 'items'), { demultiply_count: 0 }, 'twice'),
        node('m', 'inc', { x: src('inner', 'items') }, [['y', 'y']]),
        node('g', 'stack', { x: src('m', 'y') }, [['y', 'y']], { gather_from_node: 'inner' }),
      ],
      outputs: [{ out: src('g', 'y') }],
    });
    // outer: [3, 0] → items [3,0], [4,1], [5,2]; inner: each → itself and itself + 1; m: + 1.
    const out = (await executePipeline(p, new Map([['x', f32([1, 2], [3, 0])]]), runner())).get('out')!;
    assert.deepEqual(out.shape, [3, 2, 1, 2]);
    assert.deepEqual(values(out), [4, 1, 5, 2, 5, 2, 6, 3, 6, 3, 7, 4]);

    const nested = build({
      inputs: ['x'],
      nodes: [splitter('outer', src('request', 'x')), splitter('inner', src('outer', 'items')), node('m', 'inc', { x: src('inner', 'items') }, [['y', 'y']])],
      outputs: [{ out: src('m', 'y') }],
    });
    // outer [2, 7] → items [2,7] and [3,8]; inner makes 2 and 3 items: the response cannot stack them.
    await assert.rejects(executePipeline(nested, new Map([['x', f32([1, 2], [2, 7])]]), runner()), (e: unknown) => {
      assert.ok(e instanceof ServingError);
      assert.equal(e.message, 'Gathered tensor shards dimensions are different - output: out: FP32 (2,1,2) vs FP32 (3,1,2)');
      return true;
    });
  });

  test('a fixed demultiply_count must match at run time', async () => {
    const p = build({
      inputs: ['x'],
      nodes: [splitter('split', src('request', 'x'), { demultiply_count: 3 }), node('m', 'inc', { x: src('split', 'items') }, [['y', 'y']])],
      outputs: [{ out: src('m', 'y') }],
    });
    assert.deepEqual((await executePipeline(p, new Map([['x', f32([1, 1], [3])]]), runner())).get('out')!.shape, [3, 1, 1]);
    await assert.rejects(executePipeline(p, new Map([['x', f32([1, 1], [2])]]), runner()),
      { message: 'Wrong dimension size. Should match demultiply count - node: split; demultiply_count: 3; actual: 2' });
  });

  test('a demultiplexer may return its branches as a list of tensors of different shapes', async () => {
    const p = build({
      inputs: ['x'],
      nodes: [splitter('split', src('request', 'x')), node('m', 'inc', { x: src('split', 'items') }, [['y', 'y']])],
      outputs: [{ out: src('m', 'y') }],
    });
    const shapes: number[][] = [];
    const base = runner({ before: (n, inputs) => { if (n.name === 'm') shapes.push([...inputs.get('x')!.shape]); } });
    const ragged: NodeRunner = {
      async run(n, inputs, names, signal) {
        if (n.name !== 'split') return base.run(n, inputs, names, signal);
        return new Map([['items', [f32([1, 1], [5]), f32([1, 1], [6])]]]);
      },
    };
    const out = await executePipeline(p, new Map([['x', f32([1, 1], [0])]]), ragged);
    assert.deepEqual(values(out.get('out')), [6, 7]);
    assert.deepEqual(shapes, [[1, 1], [1, 1]]);
  });

  test('pipeline-level demultiply_count splits the request inputs', async () => {
    const p = build({
      inputs: ['x'],
      demultiply_count: 0,
      nodes: [node('m', 'inc', { x: src('request', 'x') }, [['y', 'y']])],
      outputs: [{ out: src('m', 'y') }],
    });
    const out = await executePipeline(p, new Map([['x', f32([3, 1, 2], [1, 2, 3, 4, 5, 6])]]), runner());
    assert.deepEqual(out.get('out')!.shape, [3, 1, 2]);
    assert.deepEqual(values(out.get('out')), [2, 3, 4, 5, 6, 7]);
  });

  test('a failing node fails the request with its name; running siblings are told to stop', async () => {
    const p = build({
      inputs: ['x'],
      nodes: [
        node('bad', 'inc', { x: src('request', 'x') }, [['y', 'y']]),
        node('long', 'inc', { x: src('request', 'x') }, [['y', 'y']]),
        node('join', 'pair', { a: src('bad', 'y'), b: src('long', 'y') }, [['sum', 'sum']]),
      ],
      outputs: [{ out: src('join', 'sum') }],
    });
    let siblingAborted = false;
    const log: string[] = [];
    await assert.rejects(executePipeline(p, new Map([['x', f32([1, 1], [1])]]), runner({
      before: async (n, _inputs, signal) => {
        if (n.name === 'bad') throw new ServingError('INVALID_ARGUMENT', 'Invalid input shape - Expected: (1,2); Actual: (1,1)');
        if (n.name === 'long') {
          await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
          siblingAborted = true;
        }
      },
    }, log)), (e: unknown) => {
      assert.ok(e instanceof ServingError);
      assert.equal(e.code, 'INVALID_ARGUMENT');
      assert.equal(e.message, 'Invalid input shape - Expected: (1,2); Actual: (1,1); node: bad');
      return true;
    });
    await new Promise((r) => setImmediate(r));
    assert.ok(siblingAborted);
    assert.ok(!log.includes('start join'));
  });

  test('the client going away cancels the request', async () => {
    const p = build({
      inputs: ['x'],
      nodes: [node('m', 'inc', { x: src('request', 'x') }, [['y', 'y']])],
      outputs: [{ out: src('m', 'y') }],
    });
    const controller = new AbortController();
    const run = executePipeline(p, new Map([['x', f32([1, 1], [1])]]), runner({
      before: (_n, _i, signal) => new Promise<void>((resolve) => { signal.addEventListener('abort', () => resolve()); controller.abort(); }),
    }), controller.signal);
    await assert.rejects(run, { code: 'CANCELLED' });
  });

  test('many concurrent executions of one pipeline do not mix their tensors', async () => {
    const p = build({
      inputs: ['x'],
      nodes: [splitter('split', src('request', 'x')), node('m', 'inc', { x: src('split', 'items') }, [['y', 'y']])],
      outputs: [{ out: src('m', 'y') }],
    });
    const slow = runner({ before: () => new Promise((r) => setTimeout(r, Math.random() * 5)) });
    const results = await Promise.all(Array.from({ length: 40 }, (_, k) =>
      executePipeline(p, new Map([['x', f32([1, 2], [1 + (k % 4), k])]]), slow)));
    results.forEach((out, k) => {
      const n = 1 + (k % 4);
      const expected: number[] = [];
      for (let i = 0; i < n; i++) expected.push(n + i + 1, k + i + 1);
      assert.deepEqual(values(out.get('out')), expected, `request ${k}`);
    });
  });
});
