/**
 * config.json `pipeline_config_list` entries (schema-validated by config/schema.ts) as typed
 * objects. Only the shape is translated here; whether the graph makes sense is validate.ts's job.
 */

export const ENTRY_NODE = 'request';
export const EXIT_NODE = 'response';

/** Where a node input (or a pipeline output) takes its tensor from. */
export interface Connection {
  /** Input name of the consuming node (for `response`: the pipeline output name). */
  readonly input: string;
  readonly sourceNode: string;
  /** An output alias of `sourceNode` (for `request`: a pipeline input name). */
  readonly sourceItem: string;
}

export interface NodeConfig {
  readonly name: string;
  readonly kind: 'model' | 'custom';
  readonly modelName?: string;
  /** Pinned model version; undefined = the model's default version at run time. */
  readonly modelVersion?: number;
  readonly libraryName?: string;
  readonly inputs: readonly Connection[];
  /** alias → model/library output name. */
  readonly outputs: ReadonlyMap<string, string>;
  readonly params: Readonly<Record<string, string>>;
  /** undefined: not a demultiplexer; 0: dynamic count; N: exactly N. */
  readonly demultiplyCount?: number;
  readonly gatherFrom?: string;
}

export interface PipelineConfig {
  readonly name: string;
  readonly inputs: readonly string[];
  readonly nodes: readonly NodeConfig[];
  /** Pipeline outputs as connections into `response`. */
  readonly outputs: readonly Connection[];
  /** Demultiplexing of the request inputs themselves. */
  readonly demultiplyCount?: number;
}

type Json = Record<string, unknown>;

/** One schema-valid `pipeline_config_list` entry → PipelineConfig. */
export function parsePipelineConfig(raw: unknown): PipelineConfig {
  const p = raw as Json;
  return {
    name: p['name'] as string,
    inputs: [...(p['inputs'] as string[])],
    nodes: (p['nodes'] as Json[]).map(parseNode),
    outputs: parseConnections(p['outputs'] as Json[]),
    ...(p['demultiply_count'] !== undefined ? { demultiplyCount: p['demultiply_count'] as number } : {}),
  };
}

function parseNode(n: Json): NodeConfig {
  const outputs = new Map<string, string>();
  for (const o of n['outputs'] as { data_item: string; alias: string }[]) {
    // A repeated alias keeps its first meaning, as a map insert does in OVMS.
    if (!outputs.has(o.alias)) outputs.set(o.alias, o.data_item);
  }
  const params: Record<string, string> = Object.create(null);
  for (const [k, v] of Object.entries((n['params'] as Record<string, string> | undefined) ?? {})) params[k] = v;
  return {
    name: n['name'] as string,
    kind: n['type'] === 'custom' ? 'custom' : 'model',
    ...(n['model_name'] !== undefined ? { modelName: n['model_name'] as string } : {}),
    ...(n['version'] !== undefined ? { modelVersion: n['version'] as number } : {}),
    ...(n['library_name'] !== undefined ? { libraryName: n['library_name'] as string } : {}),
    inputs: parseConnections(n['inputs'] as Json[]),
    outputs,
    params: Object.freeze(params),
    ...(n['demultiply_count'] !== undefined ? { demultiplyCount: n['demultiply_count'] as number } : {}),
    ...(n['gather_from_node'] !== undefined ? { gatherFrom: n['gather_from_node'] as string } : {}),
  };
}

/** `[{"<input>": {"node_name", "data_item"}}]` → connections, in config order. */
function parseConnections(list: Json[]): Connection[] {
  const out: Connection[] = [];
  for (const entry of list) {
    for (const [input, source] of Object.entries(entry)) {
      const s = source as { node_name: string; data_item: string };
      out.push({ input, sourceNode: s.node_name, sourceItem: s.data_item });
    }
  }
  return out;
}
