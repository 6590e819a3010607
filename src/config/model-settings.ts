/**
 * Parsers for the per-model settings that both the command line and config.json carry:
 * shape, batch_size, layout, model_version_policy, plugin_config, base_path.
 * Each takes an already-decoded JSON value (or string) and either returns the typed setting
 * or throws a SettingError carrying OVMS's status name and text (SPEC §2.2, §4.1, §5).
 */
import path from 'node:path';
import type { ColorFormat, DynamicBatchingConfig, NormalizationSetting, ShapeSetting, VersionPolicy } from './types.js';

/** OVMS status texts for config-time problems (src/status.cpp). */
export const SettingStatus = {
  SHAPE_WRONG_FORMAT: 'The provided shape is in wrong format',
  LAYOUT_WRONG_FORMAT: 'The provided layout is in wrong format',
  PLUGIN_CONFIG_WRONG_FORMAT: 'Plugin config is in wrong format',
  MODEL_VERSION_POLICY_WRONG_FORMAT: 'Model version policy is in wrong format',
  MODEL_VERSION_POLICY_UNSUPPORTED_KEY: 'Model version policy contains unsupported key',
  INVALID_NIREQ: 'Nireq parameter too high',
  INVALID_NON_STATEFUL_MODEL_PARAMETER: 'Stateful model config parameter used for non stateful model',
  INVALID_MAX_SEQUENCE_NUMBER: 'Sequence max number parameter too high',
  PATH_INVALID: "The provided base path is invalid or doesn't exists",
  MODEL_NAME_OCCUPIED: 'Given model name is already occupied',
  MODEL_CONFIG_INVALID: 'Model config is invalid',
} as const;

export type SettingStatusName = keyof typeof SettingStatus;

export class SettingError extends Error {
  constructor(readonly status: SettingStatusName, readonly detail?: string, message?: string) {
    super(message ?? (detail ? `${SettingStatus[status]} - ${detail}` : SettingStatus[status]));
    this.name = 'SettingError';
  }
}

/** OVMS ignores a shape/layout map entry under this reserved key (it names the anonymous input internally). */
export const ANONYMOUS_INPUT_NAME = 'ANONYMOUS_INPUT_NAME';
/** Above this a model load fails with INVALID_NIREQ. */
export const MAX_NIREQ = 100_000;
export const MAX_UINT32 = 0xffff_ffff;
/** OVMS parses dimensions with std::stoi. */
const MAX_DIM = 0x7fff_ffff;

/** Longest quoted value in an error text; a config value can be huge or deeply nested. */
const DESCRIBE_MAX_CHARS = 200;
const DESCRIBE_MAX_DEPTH = 8;

/** The value as JSON for an error text, bounded in depth and length (plain JSON.stringify can overflow the stack). */
function describe(value: unknown): string {
  const text = boundedJson(value, DESCRIBE_MAX_DEPTH);
  return text.length > DESCRIBE_MAX_CHARS ? `${text.slice(0, DESCRIBE_MAX_CHARS)}…` : text;
}

function boundedJson(value: unknown, depth: number): string {
  if (typeof value !== 'object' || value === null) return JSON.stringify(value) ?? String(value);
  if (depth <= 0) return Array.isArray(value) ? '[…]' : '{…}';
  // Stop listing members once the text is past the limit: the rest would be cut anyway.
  const parts: string[] = [];
  let length = 0;
  const add = (part: string) => {
    parts.push(part);
    length += part.length + 1;
    return length > DESCRIBE_MAX_CHARS;
  };
  if (Array.isArray(value)) {
    for (const v of value) if (add(boundedJson(v, depth - 1))) break;
    return `[${parts.join(',')}]`;
  }
  for (const [k, v] of Object.entries(value)) if (add(`${JSON.stringify(k)}:${boundedJson(v, depth - 1)}`)) break;
  return `{${parts.join(',')}}`;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

// ---------------------------------------------------------------------------------------------
// shape
//
// Maps are built with Object.fromEntries: a "__proto__" key from JSON stays an ordinary own key
// instead of replacing the object's prototype.

/**
 * `"auto"` or a tuple string such as `"(1,3,224,224)"`: spaces are ignored, only digits, commas and
 * parentheses are allowed (OVMS 2021.4 grammar; no -1 or ranges).
 */
export function parseShapeString(text: string): ShapeSetting {
  if (text === 'auto') return 'auto';
  const s = text.replace(/\s+/g, '');
  const wrong = (why: string) => new SettingError('SHAPE_WRONG_FORMAT', `${describe(text)}: ${why}`);
  if (/[^0-9(),]/.test(s)) throw wrong('expected "auto" or a tuple of non-negative integers like "(1,3,224,224)"');
  if (!s.startsWith('(') || !s.endsWith(')') || s.length < 2) throw wrong('must be enclosed in parentheses');
  const body = s.slice(1, -1);
  if (body === '') return [];
  return body.split(',').map((token) => {
    if (!/^\d+$/.test(token)) throw wrong('every dimension must be a non-negative integer');
    const dim = Number(token);
    if (dim > MAX_DIM) throw wrong(`dimension ${token} is out of range`);
    return dim;
  });
}

/** One shape value: a string (above) or, as config.json 2021.4 allows, an array of non-negative integers. */
function parseOneShape(value: unknown, where: string): ShapeSetting {
  if (typeof value === 'string') return parseShapeString(value);
  if (Array.isArray(value)) {
    for (const dim of value) {
      if (typeof dim !== 'number' || !Number.isInteger(dim) || dim < 0 || dim > MAX_DIM) {
        throw new SettingError('SHAPE_WRONG_FORMAT', `${where}: ${describe(value)}: every dimension must be a non-negative integer`);
      }
    }
    return [...value] as number[];
  }
  throw new SettingError('SHAPE_WRONG_FORMAT', `${where}: ${describe(value)}: expected a shape string or an array of integers`);
}

export interface Parsed<T> {
  readonly value: T;
  readonly warnings: readonly string[];
}

export type ShapeConfig = ShapeSetting | Readonly<Record<string, ShapeSetting>>;

/** config.json `shape`: a string (anonymous shape) or a map input name → shape. */
export function parseShapeValue(value: unknown): Parsed<ShapeConfig> {
  if (typeof value === 'string') return { value: parseShapeString(value), warnings: [] };
  if (!isPlainObject(value)) {
    throw new SettingError('SHAPE_WRONG_FORMAT', `${describe(value)}: expected a string or an object`);
  }
  const warnings: string[] = [];
  const shapes: [string, ShapeSetting][] = [];
  for (const [input, shape] of Object.entries(value)) {
    const parsed = parseOneShape(shape, `input ${describe(input)}`);
    if (input === ANONYMOUS_INPUT_NAME) {
      warnings.push(`Provided shape name: ${ANONYMOUS_INPUT_NAME} is forbidden and will be omitted`);
      continue;
    }
    shapes.push([input, parsed]);
  }
  return { value: Object.fromEntries(shapes), warnings };
}

/** --shape: `auto`, `(1,3,224,224)`, or a JSON object as text (OVMS tries a tuple first, then JSON). */
export function parseShapeArgument(text: string): Parsed<ShapeConfig> {
  if (text === 'auto' || text.startsWith('(')) return { value: parseShapeString(text), warnings: [] };
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new SettingError('SHAPE_WRONG_FORMAT', `${describe(text)}: expected "auto", a tuple like "(1,3,224,224)" or a JSON object`);
  }
  if (!isPlainObject(json)) {
    throw new SettingError('SHAPE_WRONG_FORMAT', `${describe(text)}: expected "auto", a tuple like "(1,3,224,224)" or a JSON object`);
  }
  return parseShapeValue(json);
}

// ---------------------------------------------------------------------------------------------
// batch size

export type BatchSize = number | 'auto' | undefined;

/**
 * batch_size: integer, numeric string or "auto". 0 means the model's own batch (undefined).
 * Anything else is not an error in OVMS: it warns and keeps the model's batch; `strict` (the CLI)
 * throws instead so a typo on the command line is not silently ignored.
 */
export function parseBatchSize(value: unknown, strict = false): Parsed<BatchSize> {
  if (value === 'auto') return { value: 'auto', warnings: [] };
  const text = typeof value === 'number' ? String(value) : value;
  if (typeof text === 'string' && /^\d+$/.test(text) && Number(text) <= MAX_DIM) {
    const n = Number(text);
    return { value: n === 0 ? undefined : n, warnings: [] };
  }
  const why = typeof text === 'string' && /^\d+$/.test(text) ? 'Out of range batch size parameter provided' : 'Wrong batch size parameter provided';
  if (strict) throw new SettingError('MODEL_CONFIG_INVALID', `batch_size ${describe(value)}: expected a non-negative integer or "auto"`);
  return { value: undefined, warnings: [`${why}. Model batch size will be set to default.`] };
}

// ---------------------------------------------------------------------------------------------
// layout

export type LayoutConfig = string | Readonly<Record<string, string>>;

/**
 * One layout setting, read as `client:model` (OVMS 2022.1+ `"NHWC:NCHW"`: what a client sends, then
 * what the model takes). A single layout names both sides, except OVMS 2021.4's `"NHWC"`, which asks
 * for NHWC requests to a model that is (usually) NCHW: `legacy` marks it, and the model side is then
 * decided from the model's shape when it loads.
 */
export interface LayoutSpec {
  readonly client: string;
  readonly model: string;
  readonly legacy: boolean;
}

/** Dimension names: letters or `?` (any), each letter at most once; `...` stands for any number of dims. */
const LAYOUT_TEXT = /^(?:[A-Z?]|\.\.\.)+$/;

function checkLayoutPart(part: string, whole: string): string {
  const p = part.trim().toUpperCase();
  const wrong = (why: string) => new SettingError('LAYOUT_WRONG_FORMAT', `${describe(whole)}: ${why}`);
  // OVMS 2022+ also writes layouts in brackets: "[N,C,H,W]".
  const bare = /^\[.*\]$/.test(p) ? p.slice(1, -1).split(',').map((d) => d.trim()).join('') : p;
  if (!LAYOUT_TEXT.test(bare)) throw wrong('expected dimension letters such as "NCHW", "NHWC" or "NHWC:NCHW"');
  const letters = bare.replace(/\.\.\./g, '').replace(/\?/g, '');
  if (new Set(letters).size !== letters.length) throw wrong('a dimension letter appears twice');
  if ((bare.match(/\.\.\./g) ?? []).length > 1) throw wrong('"..." may appear once');
  return bare;
}

export function parseLayoutSpec(text: string): LayoutSpec {
  const parts = text.split(':');
  if (parts.length > 2) throw new SettingError('LAYOUT_WRONG_FORMAT', `${describe(text)}: expected "LAYOUT" or "CLIENT:MODEL"`);
  const client = checkLayoutPart(parts[0]!, text);
  if (parts.length === 1) return { client, model: client, legacy: client === 'NHWC' };
  const model = checkLayoutPart(parts[1]!, text);
  if (client !== model) {
    const sorted = (l: string) => [...l].sort().join('');
    if (client.includes('.') || model.includes('.') || client.includes('?') || model.includes('?') || sorted(client) !== sorted(model)) {
      throw new SettingError('LAYOUT_WRONG_FORMAT', `${describe(text)}: both sides must name the same dimensions for the server to transpose between them`);
    }
  }
  return { client, model, legacy: false };
}

/** config.json `layout`: a string or a map tensor → string; every layout is checked, the raw text is kept. */
export function parseLayoutValue(value: unknown): Parsed<LayoutConfig> {
  if (typeof value === 'string') {
    parseLayoutSpec(value);
    return { value, warnings: [] };
  }
  if (!isPlainObject(value)) throw new SettingError('LAYOUT_WRONG_FORMAT', `${describe(value)}: expected a string or an object`);
  const warnings: string[] = [];
  const layouts: [string, string][] = [];
  for (const [tensor, layout] of Object.entries(value)) {
    if (typeof layout !== 'string') {
      throw new SettingError('LAYOUT_WRONG_FORMAT', `tensor ${describe(tensor)}: ${describe(layout)} is not a string`);
    }
    if (tensor === ANONYMOUS_INPUT_NAME) {
      warnings.push(`Provided layout name: ${ANONYMOUS_INPUT_NAME} is forbidden and will be omitted`);
      continue;
    }
    parseLayoutSpec(layout);
    layouts.push([tensor, layout]);
  }
  return { value: Object.fromEntries(layouts), warnings };
}

/** --layout: a layout string (`NHWC`, `NHWC:NCHW`) or a JSON object as text. */
export function parseLayoutArgument(text: string): Parsed<LayoutConfig> {
  if (!text.trimStart().startsWith('{')) return parseLayoutValue(text);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new SettingError('LAYOUT_WRONG_FORMAT', `${describe(text)} is not valid JSON: ${(err as Error).message}`);
  }
  return parseLayoutValue(json);
}

// ---------------------------------------------------------------------------------------------
// tsms extensions: color_format, mean, scale, dynamic_batching (documented in docs/configuration.md)

/** Keeps a per-input map or a single value, after checking each with `one`. */
function perInput<T>(value: unknown, one: (v: unknown, where: string) => T, isSingle: (v: unknown) => boolean): T | Readonly<Record<string, T>> {
  if (isSingle(value)) return one(value, '');
  if (!isPlainObject(value)) return one(value, '');
  return Object.fromEntries(Object.entries(value).map(([input, v]) => [input, one(v, `input ${describe(input)}: `)]));
}

/** `color_format`: "RGB" or "BGR" (any case), or a map input → one of them. */
export function parseColorFormat(value: unknown): ColorFormat | Readonly<Record<string, ColorFormat>> {
  return perInput(value, (v, where) => {
    const text = typeof v === 'string' ? v.trim().toUpperCase() : undefined;
    if (text === 'RGB' || text === 'BGR') return text;
    throw new SettingError('MODEL_CONFIG_INVALID', `color_format ${where}${describe(v)}: expected "RGB" or "BGR"`);
  }, (v) => typeof v === 'string');
}

/**
 * `mean` / `scale`: a number, an array of numbers (one per channel), the same as a string
 * ("[123.675,116.28,103.53]", as OVMS writes them), or a map input → one of those.
 */
export function parseNormalization(key: 'mean' | 'scale', value: unknown): NormalizationSetting | Readonly<Record<string, NormalizationSetting>> {
  const isSingle = (v: unknown) => typeof v === 'number' || typeof v === 'string' || Array.isArray(v);
  return perInput(value, (v, where) => {
    let parsed: unknown = v;
    if (typeof v === 'string') {
      try {
        parsed = JSON.parse(v.trim().startsWith('[') ? v : `[${v}]`);
      } catch {
        parsed = undefined;
      }
    }
    const list = typeof parsed === 'number' ? [parsed] : parsed;
    const wrong = () => new SettingError('MODEL_CONFIG_INVALID', `${key} ${where}${describe(v)}: expected a number or a non-empty array of numbers${key === 'scale' ? ' (not 0)' : ''}`);
    if (!Array.isArray(list) || list.length === 0 || list.length > 64) throw wrong();
    for (const n of list) {
      if (typeof n !== 'number' || !Number.isFinite(n) || (key === 'scale' && n === 0)) throw wrong();
    }
    return typeof parsed === 'number' ? parsed : [...(list as number[])];
  }, isSingle);
}

/** Largest `max_batch_size` accepted; far above what a 2-core machine can use, it only stops typos. */
export const MAX_DYNAMIC_BATCH = 4096;
/** Longest queue delay accepted: 10 s. */
export const MAX_QUEUE_DELAY_US = 10_000_000;

/**
 * `dynamic_batching`: `{"max_batch_size": 16, "max_queue_delay_us": 500, "preferred_batch_sizes": [4, 8]}`;
 * every key optional (defaults 16, 0, none). The schema has checked the types.
 */
export function parseDynamicBatching(value: unknown): DynamicBatchingConfig {
  const wrong = (why: string) => new SettingError('MODEL_CONFIG_INVALID', `dynamic_batching ${describe(value)}: ${why}`);
  if (!isPlainObject(value)) throw wrong('expected an object');
  const max = value['max_batch_size'] ?? 16;
  const delay = value['max_queue_delay_us'] ?? 0;
  const preferred = value['preferred_batch_sizes'] ?? [];
  if (typeof max !== 'number' || !Number.isInteger(max) || max < 1 || max > MAX_DYNAMIC_BATCH) throw wrong(`max_batch_size must be an integer from 1 to ${MAX_DYNAMIC_BATCH}`);
  if (typeof delay !== 'number' || !Number.isInteger(delay) || delay < 0 || delay > MAX_QUEUE_DELAY_US) throw wrong(`max_queue_delay_us must be an integer from 0 to ${MAX_QUEUE_DELAY_US}`);
  if (!Array.isArray(preferred)) throw wrong('preferred_batch_sizes must be an array');
  for (const p of preferred) {
    if (typeof p !== 'number' || !Number.isInteger(p) || p < 1 || p > max) throw wrong('preferred_batch_sizes must hold integers from 1 to max_batch_size');
  }
  return { maxBatchSize: max, maxQueueDelayUs: delay, preferredBatchSizes: [...new Set(preferred as number[])].sort((a, b) => a - b) };
}

// ---------------------------------------------------------------------------------------------
// model version policy

/** The default policy when none is given. */
export const DEFAULT_VERSION_POLICY: VersionPolicy = { kind: 'latest', numVersions: 1 };

/**
 * `{"all": {}}`, `{"latest": {"num_versions": N}}` (N ≥ 1) or `{"specific": {"versions": [...]}}`.
 * Rules from OVMS: exactly one member; `latest`/`specific` hold exactly their one member; an unknown
 * key is MODEL_VERSION_POLICY_UNSUPPORTED_KEY; non-positive entries in `versions` are dropped with a warning.
 */
export function parseVersionPolicy(value: unknown): Parsed<VersionPolicy> {
  const wrong = (why: string) => new SettingError('MODEL_VERSION_POLICY_WRONG_FORMAT', `${describe(value)}: ${why}`);
  if (!isPlainObject(value)) throw wrong('expected an object');
  const keys = Object.keys(value);
  if (keys.length !== 1) throw wrong('expected exactly one of "all", "latest", "specific"');
  const kind = keys[0]!;
  const body = value[kind];
  switch (kind) {
    case 'all':
      if (!isPlainObject(body) || Object.keys(body).length !== 0) throw wrong('"all" takes an empty object');
      return { value: { kind: 'all' }, warnings: [] };
    case 'latest': {
      if (!isPlainObject(body) || Object.keys(body).length !== 1 || !('num_versions' in body)) {
        throw wrong('"latest" takes exactly {"num_versions": N}');
      }
      const n = body['num_versions'];
      if (typeof n !== 'number' || !Number.isInteger(n) || n < 1) throw wrong('"num_versions" must be an integer >= 1');
      return { value: { kind: 'latest', numVersions: n }, warnings: [] };
    }
    case 'specific': {
      if (!isPlainObject(body) || Object.keys(body).length !== 1 || !('versions' in body)) {
        throw wrong('"specific" takes exactly {"versions": [...]}');
      }
      const list = body['versions'];
      if (!Array.isArray(list)) throw wrong('"versions" must be an array');
      const versions: number[] = [];
      const warnings: string[] = [];
      for (const v of list) {
        if (typeof v === 'number' && Number.isSafeInteger(v) && v > 0) {
          if (!versions.includes(v)) versions.push(v);
        } else {
          warnings.push(`Model policy specified in config contains invalid version ${describe(v)}. Version should be a number greater than 0.`);
        }
      }
      return { value: { kind: 'specific', versions }, warnings };
    }
    default:
      throw new SettingError('MODEL_VERSION_POLICY_UNSUPPORTED_KEY', `${describe(kind)}; expected "all", "latest" or "specific"`);
  }
}

/** --model_version_policy: the same policy as JSON text. */
export function parseVersionPolicyArgument(text: string): Parsed<VersionPolicy> {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new SettingError('MODEL_VERSION_POLICY_WRONG_FORMAT', `${describe(text)} is not valid JSON: ${(err as Error).message}`);
  }
  return parseVersionPolicy(json);
}

// ---------------------------------------------------------------------------------------------
// plugin config

/** plugin_config: an object whose values are strings or numbers; numbers become their decimal text. */
export function parsePluginConfig(value: unknown): Readonly<Record<string, string>> {
  if (!isPlainObject(value)) throw new SettingError('PLUGIN_CONFIG_WRONG_FORMAT', `${describe(value)}: expected an object`);
  return Object.fromEntries(Object.entries(value).map(([key, v]) => {
    if (typeof v === 'string') return [key, v];
    if (typeof v === 'number' && Number.isFinite(v)) return [key, String(v)];
    throw new SettingError('PLUGIN_CONFIG_WRONG_FORMAT', `${describe(key)}: ${describe(v)} must be a string or a number`);
  }));
}

/** --plugin_config: the same object as JSON text. */
export function parsePluginConfigArgument(text: string): Readonly<Record<string, string>> {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new SettingError('PLUGIN_CONFIG_WRONG_FORMAT', `${describe(text)} is not valid JSON: ${(err as Error).message}`);
  }
  return parsePluginConfig(json);
}

// ---------------------------------------------------------------------------------------------
// nireq, base path

export function checkNireq(nireq: number): number {
  if (nireq > MAX_NIREQ) throw new SettingError('INVALID_NIREQ', 'Exceeded allowed nireq value');
  return nireq;
}

/** `s3://…`, `gs://…`, `az://…`, `azfs://…` and any other `scheme://` path: not a local path. */
export function isRemotePath(p: string): boolean {
  return /^[a-zA-Z][a-zA-Z0-9+.-]*:\/\//.test(p);
}

/**
 * Rejects any `..` segment (OVMS: "Path ... escape with .. is forbidden."), then makes a local
 * relative path absolute against `baseDir`. Remote URLs are returned untouched.
 */
export function resolveBasePath(p: string, baseDir: string): string {
  if (p === '') throw new SettingError('PATH_INVALID', 'base path is empty');
  if (p.split(/[/\\]/).includes('..')) {
    throw new SettingError('PATH_INVALID', undefined, `Path ${p} escape with .. is forbidden.`);
  }
  if (isRemotePath(p) || path.isAbsolute(p)) return p;
  return path.resolve(baseDir, p);
}
