/**
 * The config.json schema (SPEC §2.1–2.3, after OVMS src/schema.cpp): closed everywhere
 * (`additionalProperties: false`), so one unknown key anywhere invalidates the whole file.
 * Only structure and types live here; per-model semantics (shape strings, nireq limit, stateful-only
 * keys, version policy contents) are checked entry by entry in config-file.ts so one bad model does
 * not take the others down.
 */
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';

const str = { type: 'string' } as const;
const bool = { type: 'boolean' } as const;
const uint = { type: 'integer', minimum: 0 } as const;

/** `{"<name>": {"node_name": "...", "data_item": "..."}}`: exactly one key. */
const sourceNode = {
  type: 'object',
  minProperties: 1,
  maxProperties: 1,
  additionalProperties: {
    type: 'object',
    required: ['node_name', 'data_item'],
    properties: { node_name: str, data_item: str },
    additionalProperties: false,
  },
} as const;

const demultiplyCount = { type: 'integer', minimum: 0, maximum: 10000 } as const;

export const configSchema = {
  type: 'object',
  required: ['model_config_list'],
  additionalProperties: false,
  properties: {
    model_config_list: { type: 'array', items: { $ref: '#/definitions/model_config' } },
    pipeline_config_list: { type: 'array', items: { $ref: '#/definitions/pipeline_config' } },
    custom_node_library_config_list: { type: 'array', items: { $ref: '#/definitions/custom_node_library_config' } },
    custom_loader_config_list: { type: 'array', items: { $ref: '#/definitions/custom_loader_config' } },
    monitoring: { $ref: '#/definitions/monitoring' },
  },
  definitions: {
    model_config: {
      type: 'object',
      required: ['config'],
      additionalProperties: false,
      properties: {
        config: {
          type: 'object',
          required: ['name', 'base_path'],
          additionalProperties: false,
          properties: {
            name: str,
            base_path: str,
            batch_size: { type: ['integer', 'string'], minimum: 0 },
            model_version_policy: { type: 'object' },
            shape: { type: ['object', 'string'] },
            layout: { type: ['object', 'string'] },
            nireq: uint,
            target_device: str,
            plugin_config: { type: 'object' },
            stateful: bool,
            idle_sequence_cleanup: bool,
            low_latency_transformation: bool,
            max_sequence_number: uint,
            allow_cache: bool,
            custom_loader_options: {
              type: 'object',
              required: ['loader_name'],
              properties: { loader_name: str },
            },
            // tsms extensions (not in OVMS's schema; docs/configuration.md). Contents are checked
            // per entry in model-settings.ts, so a bad value rejects only its model.
            color_format: { type: ['object', 'string'] },
            mean: { type: ['object', 'string', 'number', 'array'] },
            scale: { type: ['object', 'string', 'number', 'array'] },
            dynamic_batching: {
              type: 'object',
              additionalProperties: false,
              properties: {
                max_batch_size: { type: 'integer', minimum: 1 },
                max_queue_delay_us: uint,
                preferred_batch_sizes: { type: 'array', items: { type: 'integer', minimum: 1 } },
              },
            },
          },
        },
      },
    },
    output_alias: {
      type: 'object',
      required: ['data_item', 'alias'],
      additionalProperties: false,
      properties: { data_item: str, alias: str },
    },
    node_config: {
      type: 'object',
      required: ['name', 'type', 'inputs', 'outputs'],
      additionalProperties: false,
      properties: {
        name: str,
        model_name: str,
        library_name: str,
        type: { type: 'string', enum: ['DL model', 'custom'] },
        version: { type: 'integer', minimum: 1 },
        inputs: { type: 'array', items: sourceNode },
        outputs: { type: 'array', items: { $ref: '#/definitions/output_alias' } },
        params: { type: 'object', additionalProperties: str },
        demultiply_count: demultiplyCount,
        gather_from_node: str,
      },
      // A DL model node names its model, a custom node its library, never both.
      oneOf: [
        { properties: { type: { const: 'custom' } }, required: ['library_name'], not: { required: ['model_name'] } },
        { properties: { type: { const: 'DL model' } }, required: ['model_name'], not: { required: ['library_name'] } },
      ],
    },
    pipeline_config: {
      type: 'object',
      required: ['name', 'nodes', 'inputs', 'outputs'],
      additionalProperties: false,
      properties: {
        name: str,
        inputs: { type: 'array', items: str },
        nodes: { type: 'array', items: { $ref: '#/definitions/node_config' } },
        outputs: { type: 'array', items: sourceNode },
        demultiply_count: demultiplyCount,
      },
    },
    custom_node_library_config: {
      type: 'object',
      required: ['name', 'base_path'],
      additionalProperties: false,
      properties: { name: str, base_path: str },
    },
    custom_loader_config: {
      type: 'object',
      required: ['config'],
      additionalProperties: false,
      properties: {
        config: {
          type: 'object',
          required: ['loader_name', 'library_path'],
          additionalProperties: false,
          properties: { loader_name: str, library_path: str, loader_config_file: str },
        },
      },
    },
    monitoring: {
      type: 'object',
      required: ['metrics'],
      additionalProperties: false,
      properties: {
        metrics: {
          type: 'object',
          required: ['enable'],
          additionalProperties: false,
          properties: { enable: bool, metrics_list: { type: 'array', items: str } },
        },
      },
    },
  },
} as const;

let compiled: ValidateFunction | undefined;

function validator(): ValidateFunction {
  // Compiled on first use: the CLI path never pays for it.
  compiled ??= new Ajv({ allErrors: true, strict: true, strictTypes: false, strictRequired: false }).compile(configSchema);
  return compiled;
}

/** undefined when `json` matches the schema, else one readable problem: `<json pointer>: <what is wrong>`. */
export function validateConfigJson(json: unknown): string | undefined {
  const validate = validator();
  if (validate(json)) return undefined;
  return describeErrors(validate.errors ?? [], json);
}

function describeErrors(errors: readonly ErrorObject[], json: unknown): string {
  // oneOf branch errors ("must have required property model_name" under the wrong branch) are noise;
  // the oneOf error itself is described from the node's content instead.
  const direct = errors.filter((e) => !e.schemaPath.includes('/oneOf/'));
  const candidates = direct.length > 0 ? direct : errors;
  // An unknown key is usually a typo and explains the rest (e.g. "nam" → missing "name"): report it first,
  // together with the other problems of the same object.
  // A oneOf failure is the vaguest report: any other problem (e.g. a bad "type" value) explains more.
  const first = candidates.find((e) => e.keyword === 'additionalProperties')
    ?? candidates.find((e) => e.keyword !== 'oneOf') ?? candidates[0];
  if (!first) return 'does not match the schema';
  const sameObject = candidates.filter((e) => e.instancePath === first.instancePath);
  const ordered = [first, ...sameObject.filter((e) => e !== first)];
  const problems = [...new Set(ordered.map((e) => describeError(e, json)))];
  const where = first.instancePath === '' ? '(top level)' : first.instancePath;
  return `${where}: ${problems.join('; ')}`;
}

function describeError(e: ErrorObject, json: unknown): string {
  const p = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case 'additionalProperties':
      return `unknown field ${JSON.stringify(p['additionalProperty'])}`;
    case 'required':
      return `missing required field ${JSON.stringify(p['missingProperty'])}`;
    case 'type': {
      const want = Array.isArray(p['type']) ? (p['type'] as string[]).join(' or ') : String(p['type']);
      return `must be ${want}, not ${typeName(valueAt(json, e.instancePath))}`;
    }
    case 'enum':
      return `must be one of ${(p['allowedValues'] as unknown[]).map((v) => JSON.stringify(v)).join(', ')}, not ${JSON.stringify(valueAt(json, e.instancePath))}`;
    case 'minimum': case 'maximum':
      return `must be ${String(p['comparison'])} ${String(p['limit'])}, not ${JSON.stringify(valueAt(json, e.instancePath))}`;
    case 'minProperties': case 'maxProperties':
      return 'must be an object with exactly one key';
    case 'oneOf':
      return describeNodeKind(valueAt(json, e.instancePath));
    default:
      return e.message ?? `fails "${e.keyword}"`;
  }
}

/** Explains why a pipeline node matches neither "DL model" nor "custom". */
function describeNodeKind(node: unknown): string {
  const n = (node ?? {}) as Record<string, unknown>;
  if (n['type'] === 'custom') {
    return 'model_name' in n
      ? 'field "model_name" is not allowed in a node of type "custom"'
      : 'missing required field "library_name" (required in a node of type "custom")';
  }
  if (n['type'] === 'DL model') {
    return 'library_name' in n
      ? 'field "library_name" is not allowed in a node of type "DL model"'
      : 'missing required field "model_name" (required in a node of type "DL model")';
  }
  return 'a node must be of type "DL model" (with "model_name") or "custom" (with "library_name")';
}

function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v;
}

/** The value at a JSON pointer ("" = the document). */
function valueAt(json: unknown, pointer: string): unknown {
  if (pointer === '') return json;
  let cur: unknown = json;
  for (const raw of pointer.slice(1).split('/')) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[key];
  }
  return cur;
}
