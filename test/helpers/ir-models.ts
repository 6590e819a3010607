/**
 * Writes small OpenVINO IR files (.xml + .bin) for tests: layers with ports and dims as the
 * Model Optimizer writes them (input ports numbered first, then outputs), edges, and the
 * constants packed into one .bin.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { numberToHalfBits } from '../../src/core/fp16.js';

export interface IrRef {
  readonly layer: number;
  /** Output position. */
  readonly out: number;
  readonly dims: readonly (number | string)[];
  readonly precision: string;
}

interface Layer {
  id: number;
  name: string;
  type: string;
  version: string;
  data: Record<string, string | number>;
  inputs: readonly (number | string)[][];
  outputs: { dims: readonly (number | string)[]; precision: string; names?: string }[];
}

const PRECISION: Record<string, string> = { f32: 'FP32', f16: 'FP16', i64: 'I64', i32: 'I32', u8: 'U8', boolean: 'BOOL' };

export class IrWriter {
  readonly #layers: Layer[] = [];
  readonly #edges: [number, number, number, number][] = [];
  readonly #chunks: Buffer[] = [];
  #binSize = 0;

  #add(layer: Omit<Layer, 'id'>): Layer {
    const l = { ...layer, id: this.#layers.length };
    this.#layers.push(l);
    return l;
  }

  param(name: string, shape: readonly (number | string)[], elementType = 'f32', portNames?: string): IrRef {
    const precision = PRECISION[elementType]!;
    const l = this.#add({
      name, type: 'Parameter', version: 'opset1',
      data: { element_type: elementType, shape: shape.join(',') }, inputs: [], outputs: [{ dims: shape, precision, names: portNames }],
    });
    return { layer: l.id, out: 0, dims: shape, precision };
  }

  constant(values: readonly number[], shape: readonly number[], elementType = 'f32'): IrRef {
    const bytes = encode(values, elementType);
    const precision = PRECISION[elementType]!;
    const l = this.#add({
      name: `const${this.#layers.length}`, type: 'Const', version: 'opset1',
      data: { element_type: elementType, shape: shape.join(', '), offset: this.#binSize, size: bytes.byteLength },
      inputs: [], outputs: [{ dims: shape, precision }],
    });
    this.#chunks.push(bytes);
    this.#binSize += bytes.byteLength;
    return { layer: l.id, out: 0, dims: shape, precision };
  }

  /** An operation with one output per entry of `outputs` (dims, optionally with a precision). */
  op(type: string, inputs: readonly IrRef[], outputs: readonly (readonly (number | string)[])[], data: Record<string, string | number> = {}, version = 'opset1', opts: { name?: string; precisions?: string[]; names?: string[] } = {}): IrRef[] {
    const l = this.#add({
      name: opts.name ?? `${type}${this.#layers.length}`, type, version, data,
      inputs: inputs.map((r) => [...r.dims]),
      outputs: outputs.map((dims, i) => ({ dims, precision: opts.precisions?.[i] ?? 'FP32', names: opts.names?.[i] })),
    });
    inputs.forEach((r, i) => this.#edges.push([r.layer, r.out, l.id, i]));
    return l.outputs.map((o, i) => ({ layer: l.id, out: i, dims: o.dims, precision: o.precision }));
  }

  op1(type: string, inputs: readonly IrRef[], dims: readonly (number | string)[], data: Record<string, string | number> = {}, version = 'opset1', opts: { name?: string; precision?: string; names?: string } = {}): IrRef {
    return this.op(type, inputs, [dims], data, version, { name: opts.name, precisions: opts.precision ? [opts.precision] : undefined, names: opts.names ? [opts.names] : undefined })[0]!;
  }

  result(ref: IrRef): void {
    const l = this.#add({ name: `result${this.#layers.length}`, type: 'Result', version: 'opset1', data: {}, inputs: [[...ref.dims]], outputs: [] });
    this.#edges.push([ref.layer, ref.out, l.id, 0]);
  }

  xml(irVersion = 11): string {
    const dims = (d: readonly (number | string)[]): string => d.map((x) => `<dim>${x}</dim>`).join('');
    const layers = this.#layers.map((l) => {
      const data = Object.keys(l.data).length ? `<data ${Object.entries(l.data).map(([k, v]) => `${k}="${v}"`).join(' ')}/>` : '';
      const ins = l.inputs.length ? `<input>${l.inputs.map((d, i) => `<port id="${i}">${dims(d)}</port>`).join('')}</input>` : '';
      const outs = l.outputs.length
        ? `<output>${l.outputs.map((o, i) => `<port id="${l.inputs.length + i}" precision="${o.precision}"${o.names ? ` names="${o.names}"` : ''}>${dims(o.dims)}</port>`).join('')}</output>`
        : '';
      return `<layer id="${l.id}" name="${l.name}" type="${l.type}" version="${l.version}">${data}${ins}${outs}</layer>`;
    });
    const edges = this.#edges.map(([fl, fo, tl, tp]) => {
      const from = this.#layers[fl]!;
      return `<edge from-layer="${fl}" from-port="${from.inputs.length + fo}" to-layer="${tl}" to-port="${tp}"/>`;
    });
    return `<?xml version="1.0"?>\n<net name="test" version="${irVersion}"><layers>${layers.join('\n')}</layers><edges>${edges.join('\n')}</edges></net>\n`;
  }

  bin(): Buffer {
    return Buffer.concat(this.#chunks);
  }

  /** Writes `<dir>/<base>.xml` and `<dir>/<base>.bin`; returns dir. */
  write(dir: string, base = 'model', irVersion = 11): string {
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, `${base}.xml`), this.xml(irVersion));
    writeFileSync(path.join(dir, `${base}.bin`), this.bin());
    return dir;
  }
}

function encode(values: readonly number[], et: string): Buffer {
  switch (et) {
    case 'f32': return Buffer.from(new Float32Array(values).buffer);
    case 'f16': return Buffer.from(new Uint16Array(values.map(numberToHalfBits)).buffer);
    case 'i64': return Buffer.from(new BigInt64Array(values.map((v) => BigInt(v))).buffer);
    case 'i32': return Buffer.from(new Int32Array(values).buffer);
    case 'u8': case 'boolean': return Buffer.from(new Uint8Array(values).buffer);
    default: throw new Error(`no encoder for ${et}`);
  }
}
