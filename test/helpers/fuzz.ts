/**
 * Shared pieces of the fuzz tests (test/fuzz-*.test.ts): one seed per run, printed on failure and
 * settable with TSMS_FUZZ_SEED for replay; TSMS_FUZZ_SCALE multiplies the number of cases (the
 * longer run in scripts/fuzz.ts uses it); byte-level mutators; and what counts as an acceptable
 * answer to hostile input.
 */
import fc from 'fast-check';
import assert from 'node:assert/strict';

function envSeed(): number {
  const raw = process.env['TSMS_FUZZ_SEED'];
  if (raw === undefined || raw.trim() === '') return Math.floor(Math.random() * 0x7fffffff);
  const n = Number(raw);
  if (!Number.isSafeInteger(n)) throw new Error(`TSMS_FUZZ_SEED must be an integer, got ${JSON.stringify(raw)}`);
  return n | 0;
}

/** The seed every property of this process runs with. */
export const fuzzSeed = envSeed();

/** Multiplies every property's case count (scripts/fuzz.ts raises it for the long run). */
export const fuzzScale = (() => {
  const raw = process.env['TSMS_FUZZ_SCALE'];
  const n = raw === undefined ? 1 : Number(raw);
  if (!(n > 0)) throw new Error(`TSMS_FUZZ_SCALE must be a positive number, got ${JSON.stringify(raw)}`);
  return n;
})();

/** The replay hint printed with every failure. */
export function replayHint(): string {
  return `replay with TSMS_FUZZ_SEED=${fuzzSeed}`;
}

/**
 * Runs `property` for `numRuns` cases (times TSMS_FUZZ_SCALE) with the run's seed; a failure is
 * rethrown with the counterexample, the seed and the replay command.
 */
export async function fuzz<Ts extends [unknown, ...unknown[]]>(
  name: string,
  property: fc.IRawProperty<Ts>,
  numRuns: number,
): Promise<void> {
  const details = await fc.check(property, { seed: fuzzSeed, numRuns: Math.max(1, Math.round(numRuns * fuzzScale)) });
  if (details.failed) {
    const cause = details.errorInstance instanceof Error ? details.errorInstance.message : String(details.errorInstance);
    throw new Error(`fuzz "${name}" failed (${replayHint()}, seed ${details.seed}, path ${details.counterexamplePath ?? ''}):\n${cause}\n${fc.defaultReportMessage(details) ?? ''}`);
  }
}

// ---- byte mutations ------------------------------------------------------------------------------

/** JSON tokens worth splicing into text: structure, extreme numbers, odd literals. */
const JSON_TOKENS = ['[', ']', '{', '}', '"', ',', ':', '-', '0', '1e999', '-1e999', '1e-999', 'NaN', 'Infinity', 'null', 'true',
  '9007199254740993', '-0', '\\u0000', '\\ud800', '""', '{"b64":"', '"data":', '"shape":[', '"datatype":"', '[[[[', ']]]]'];

type Mutation =
  | { readonly kind: 'set'; readonly at: number; readonly value: number }
  | { readonly kind: 'insert'; readonly at: number; readonly bytes: Uint8Array }
  | { readonly kind: 'delete'; readonly at: number; readonly length: number }
  | { readonly kind: 'truncate'; readonly at: number }
  | { readonly kind: 'duplicate'; readonly at: number; readonly length: number }
  | { readonly kind: 'varint'; readonly at: number; readonly length: number };

const mutation = (tokens: readonly string[]): fc.Arbitrary<Mutation> => fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('set' as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 8 }) }) },
  ...(tokens.length > 0
    ? [{ weight: 3, arbitrary: fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), bytes: fc.constantFrom(...tokens).map((t) => new TextEncoder().encode(t)) }) }]
    : []),
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), length: fc.integer({ min: 1, max: 16 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('duplicate' as const), at: fc.nat(), length: fc.integer({ min: 1, max: 32 }) }) },
  // Continuation bytes: turns a length or tag into a huge or over-long varint.
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('varint' as const), at: fc.nat(), length: fc.integer({ min: 1, max: 11 }) }) },
);

function applyMutations(base: Uint8Array, ops: readonly Mutation[]): Uint8Array {
  let b: Uint8Array = Uint8Array.from(base);
  for (const op of ops) {
    const at = b.length === 0 ? 0 : op.at % (b.length + (op.kind === 'insert' ? 1 : 0));
    switch (op.kind) {
      case 'set':
        if (b.length > 0) b[at] = op.value;
        break;
      case 'insert':
        b = concat(b.subarray(0, at), op.bytes, b.subarray(at));
        break;
      case 'delete':
        b = concat(b.subarray(0, at), b.subarray(at + op.length));
        break;
      case 'truncate':
        b = b.slice(0, at);
        break;
      case 'duplicate':
        b = concat(b.subarray(0, at + op.length), b.subarray(at, at + op.length), b.subarray(at + op.length));
        break;
      case 'varint':
        b = concat(b.subarray(0, at), new Uint8Array(op.length).fill(0xff), b.subarray(at + 1));
        break;
    }
  }
  return b;
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** A copy of one of `bases` with 1..maxOps random edits (flips, inserts, deletes, truncation, varint runs). */
export function mutatedBytes(bases: readonly Uint8Array[], opts: { maxOps?: number; jsonTokens?: boolean } = {}): fc.Arbitrary<Uint8Array> {
  return fc.tuple(fc.constantFrom(...bases), fc.array(mutation(opts.jsonTokens ? JSON_TOKENS : []), { minLength: 1, maxLength: opts.maxOps ?? 4 }))
    .map(([base, ops]) => applyMutations(base, ops));
}

/** mutatedBytes over the UTF-8 of JSON texts, splicing JSON tokens too. */
export function mutatedJson(bases: readonly string[], maxOps = 4): fc.Arbitrary<Uint8Array> {
  return mutatedBytes(bases.map((s) => new TextEncoder().encode(s)), { maxOps, jsonTokens: true });
}

// ---- acceptable answers ---------------------------------------------------------------------------

/**
 * The only 5xx answers a client can cause on purpose: OVMS defines these two as 500 and tsms
 * keeps them (SPEC §6.1): the no-named format on a model with several inputs, and a row-format
 * response whose outputs have different batch sizes.
 */
const OVMS_DEFINED_500 = [/^Internal allocation error/, /^Response parsing to JSON error/];

/** Asserts an HTTP answer to hostile input is a client error (or OVMS's two defined 500s), with an error body. */
export function assertClientErrorHttp(status: number, body: string, context: string): void {
  assert.ok(status >= 400 && status < 500 || (status === 500 && isOvmsDefined500(body)),
    `expected a 4xx answer, got ${status} ${body.slice(0, 300)}\n  request: ${context.slice(0, 600)}\n  ${replayHint()}`);
  let parsed: unknown;
  try {
    parsed = body === '' ? {} : JSON.parse(body);
  } catch {
    assert.fail(`error body is not JSON: ${body.slice(0, 300)}\n  request: ${context.slice(0, 600)}`);
  }
  // Bodiless 4xx answers exist (KServe readiness says "not ready" with 400 and no body).
  if (body !== '') assert.equal(typeof (parsed as { error?: unknown }).error, 'string', `error body without "error": ${body.slice(0, 300)}`);
}

function isOvmsDefined500(body: string): boolean {
  try {
    const e = (JSON.parse(body) as { error?: unknown }).error;
    return typeof e === 'string' && OVMS_DEFINED_500.some((re) => re.test(e));
  } catch {
    return false;
  }
}

/** gRPC codes hostile input may get: INVALID_ARGUMENT, NOT_FOUND, RESOURCE_EXHAUSTED, FAILED_PRECONDITION, OUT_OF_RANGE. */
export const CLIENT_ERROR_GRPC_CODES: ReadonlySet<number> = new Set([3, 5, 8, 9, 11]);

export function assertClientErrorGrpc(err: unknown, context: string): void {
  const e = err as { code?: number; details?: string };
  assert.ok(typeof e.code === 'number' && CLIENT_ERROR_GRPC_CODES.has(e.code),
    `expected an INVALID_ARGUMENT-class gRPC error, got ${e.code} "${e.details ?? String(err)}"\n  request: ${context.slice(0, 600)}\n  ${replayHint()}`);
  assert.ok(typeof e.details === 'string' && e.details.length > 0, 'gRPC errors carry a message');
}

/** Hex of the first bytes, for failure messages. */
export function hexHead(bytes: Uint8Array, max = 160): string {
  return `${Buffer.from(bytes.subarray(0, max)).toString('hex')}${bytes.length > max ? `… (${bytes.length} bytes)` : ''}`;
}

// ---- value comparison -----------------------------------------------------------------------------

/** Element-wise equality where NaN equals NaN (bit patterns of NaN may differ between producers). */
export function sameNumbers(actual: ArrayLike<number | bigint>, expected: ArrayLike<number | bigint>): boolean {
  if (actual.length !== expected.length) return false;
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i]!;
    const e = expected[i]!;
    if (typeof a === 'number' && typeof e === 'number' && Number.isNaN(a) && Number.isNaN(e)) continue;
    if (a !== e) return false;
  }
  return true;
}
