/**
 * Reads an OpenVINO IR .xml (v10, v11) into an IrNet with fast-xml-parser. Only `<layers>` and
 * `<edges>` matter; `<meta_data>`, `<rt_info>` and other blocks (legacy Model Optimizer output)
 * are parsed and ignored.
 */
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { IrImportError } from './errors.js';
import type { Dim, IrEdge, IrLayer, IrNet, IrPort } from './ir-graph.js';

const ARRAY_PATHS = new Set([
  'net.layers.layer',
  'net.edges.edge',
  'net.layers.layer.input.port',
  'net.layers.layer.output.port',
  'net.layers.layer.input.port.dim',
  'net.layers.layer.output.port.dim',
]);

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '',
  parseTagValue: false,
  parseAttributeValue: false,
  isArray: (_name, jpath) => ARRAY_PATHS.has(String(jpath)),
});

type Node = Record<string, unknown>;

const SUPPORTED_VERSIONS = new Set([10, 11]);

export function parseIrXml(text: string): IrNet {
  const valid = XMLValidator.validate(text);
  if (valid !== true) {
    throw new IrImportError(`the .xml is not well-formed XML: ${valid.err.msg} (line ${valid.err.line}, column ${valid.err.col})`);
  }
  const doc = parser.parse(text) as Node;
  const net = doc.net as Node | undefined;
  if (!net || typeof net !== 'object') throw new IrImportError('the .xml has no <net> root element: it is not an OpenVINO IR file');
  const irVersion = Number(net.version);
  if (!SUPPORTED_VERSIONS.has(irVersion)) {
    throw new IrImportError(`IR version ${String(net.version)} is not supported (versions 10 and 11 are; convert older IR with a recent OpenVINO)`);
  }
  const layers = (((net.layers as Node | undefined)?.layer ?? []) as Node[]).map(readLayer);
  const edges = (((net.edges as Node | undefined)?.edge ?? []) as Node[]).map(readEdge);
  return { name: str(net.name) ?? '', irVersion, layers, edges };
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

function readLayer(node: Node): IrLayer {
  const id = str(node.id);
  const type = str(node.type);
  if (id === undefined || type === undefined) throw new IrImportError('a <layer> element lacks its id or type attribute');
  const data: Record<string, string> = {};
  const dataNode = node.data;
  if (dataNode && typeof dataNode === 'object') {
    for (const [k, v] of Object.entries(dataNode as Node)) if (typeof v === 'string') data[k] = v;
  }
  return {
    id,
    name: str(node.name) ?? id,
    type,
    version: str(node.version) ?? 'opset1',
    data,
    inputs: readPorts(node.input),
    outputs: readPorts(node.output),
  };
}

function readPorts(group: unknown): IrPort[] {
  if (!group || typeof group !== 'object') return [];
  const ports = ((group as Node).port ?? []) as Node[];
  return ports
    .map((p): IrPort => ({
      id: str(p.id) ?? '',
      precision: str(p.precision),
      dims: ((p.dim ?? []) as unknown[]).map((d) => parseDim(typeof d === 'string' ? d : String((d as Node)['#text'] ?? ''))),
      names: splitNames(str(p.names)),
    }))
    .sort((a, b) => Number(a.id) - Number(b.id));
}

function readEdge(node: Node): IrEdge {
  const e = {
    fromLayer: str(node['from-layer']), fromPort: str(node['from-port']),
    toLayer: str(node['to-layer']), toPort: str(node['to-port']),
  };
  if (e.fromLayer === undefined || e.fromPort === undefined || e.toLayer === undefined || e.toPort === undefined) {
    throw new IrImportError('an <edge> element lacks one of from-layer, from-port, to-layer, to-port');
  }
  return e as IrEdge;
}

/** "300" → 300; "-1", "?", "1..10", "..." → -1 (dynamic). */
export function parseDim(text: string): Dim {
  const t = text.trim();
  if (/^\d+$/.test(t)) return Number(t);
  return -1;
}

/** A `shape="1, 3, 300, 300"` attribute; "" is a scalar. Undefined when the rank itself is dynamic. */
export function parseShapeAttr(text: string): Dim[] | undefined {
  const t = text.trim();
  if (t === '') return [];
  if (t === '...') return undefined;
  return t.split(',').map(parseDim);
}

/** `names="a,b\,c"`: commas separate names, "\," is a comma inside one. */
export function splitNames(attr: string | undefined): string[] {
  if (attr === undefined) return [];
  const names: string[] = [];
  let cur = '';
  for (let i = 0; i < attr.length; i++) {
    const c = attr[i]!;
    if (c === '\\' && attr[i + 1] === ',') {
      cur += ',';
      i++;
    } else if (c === ',') {
      names.push(cur.trim());
      cur = '';
    } else {
      cur += c;
    }
  }
  names.push(cur.trim());
  return names.filter((n) => n.length > 0);
}
