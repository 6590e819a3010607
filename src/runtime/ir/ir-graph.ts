/**
 * The OpenVINO IR network as read from the .xml: layers with their ports, and the edges between
 * ports. Tensors are identified by (layer id, output port id): port `names` repeat in real models
 * (face-detection-retail-0004 names a Parameter and the Add after it both "data"), so names only
 * matter for the model's inputs and outputs.
 */
import { IrImportError, layerError } from './errors.js';

/** A dimension: a size, or -1 when dynamic ("?", "-1" or a range "1..10"). */
export type Dim = number;

export interface IrPort {
  readonly id: string;
  readonly precision?: string;
  readonly dims: readonly Dim[];
  /** Tensor names from the `names` attribute (IR v11; absent in most v10 files). */
  readonly names: readonly string[];
}

export interface IrLayer {
  readonly id: string;
  readonly name: string;
  readonly type: string;
  readonly version: string;
  /** Attributes of the `<data>` element, as written. */
  readonly data: Readonly<Record<string, string>>;
  /** Input ports in port-id order: position i is the operation's input i. */
  readonly inputs: readonly IrPort[];
  /** Output ports in port-id order: position i is the operation's output i. */
  readonly outputs: readonly IrPort[];
}

export interface IrEdge {
  readonly fromLayer: string;
  readonly fromPort: string;
  readonly toLayer: string;
  readonly toPort: string;
}

export interface IrNet {
  readonly name: string;
  readonly irVersion: number;
  readonly layers: readonly IrLayer[];
  readonly edges: readonly IrEdge[];
}

/** One produced tensor: a layer's output port. */
export interface PortRef {
  readonly layer: IrLayer;
  /** Position among the layer's output ports. */
  readonly index: number;
  readonly port: IrPort;
}

const portKey = (layerId: string, portId: string): string => `${layerId}:${portId}`;

export class IrGraph {
  readonly net: IrNet;
  readonly #layers = new Map<string, IrLayer>();
  /** (consumer layer, input port) → producer. */
  readonly #producer = new Map<string, PortRef>();
  /** (producer layer, output port) → consumer layers. */
  readonly #consumers = new Map<string, IrLayer[]>();

  constructor(net: IrNet) {
    this.net = net;
    for (const layer of net.layers) {
      if (this.#layers.has(layer.id)) throw new IrImportError(`two layers have id ${layer.id}`);
      this.#layers.set(layer.id, layer);
    }
    for (const e of net.edges) {
      const from = this.#layers.get(e.fromLayer);
      const to = this.#layers.get(e.toLayer);
      if (!from || !to) throw new IrImportError(`edge ${e.fromLayer}:${e.fromPort} → ${e.toLayer}:${e.toPort} names a layer that does not exist`);
      const index = from.outputs.findIndex((p) => p.id === e.fromPort);
      if (index < 0) throw layerError(from, `edge to layer ${e.toLayer} leaves from output port ${e.fromPort}, which the layer does not have`);
      if (!to.inputs.some((p) => p.id === e.toPort)) throw layerError(to, `edge from layer ${e.fromLayer} enters input port ${e.toPort}, which the layer does not have`);
      const key = portKey(e.toLayer, e.toPort);
      if (this.#producer.has(key)) throw layerError(to, `input port ${e.toPort} has two incoming edges`);
      this.#producer.set(key, { layer: from, index, port: from.outputs[index]! });
      const outKey = portKey(e.fromLayer, e.fromPort);
      const list = this.#consumers.get(outKey) ?? [];
      list.push(to);
      this.#consumers.set(outKey, list);
    }
  }

  get layers(): readonly IrLayer[] {
    return this.net.layers;
  }

  /** The tensor feeding input `index` of `layer`. */
  producer(layer: IrLayer, index: number): PortRef {
    const port = layer.inputs[index];
    if (!port) throw layerError(layer, `has no input ${index}`);
    const ref = this.#producer.get(portKey(layer.id, port.id));
    if (!ref) throw layerError(layer, `input port ${port.id} is not connected`);
    return ref;
  }

  consumers(layer: IrLayer, outputIndex: number): readonly IrLayer[] {
    const port = layer.outputs[outputIndex];
    return port ? this.#consumers.get(portKey(layer.id, port.id)) ?? [] : [];
  }

  /**
   * Layers the Results depend on, producers first. Layers nothing needs (a MaxPool's unused
   * index output chain, leftovers of conversions) are skipped, so they cannot fail the import.
   */
  neededInOrder(): IrLayer[] {
    const results = this.net.layers.filter((l) => l.type === 'Result');
    if (results.length === 0) throw new IrImportError('the network has no Result layer (no outputs)');
    const order: IrLayer[] = [];
    const state = new Map<string, 'visiting' | 'done'>();
    // Iterative depth-first walk: real networks are deep enough to overflow a recursive one.
    for (const root of results) {
      const stack: { layer: IrLayer; next: number }[] = [{ layer: root, next: 0 }];
      if (state.get(root.id) === 'done') continue;
      state.set(root.id, 'visiting');
      while (stack.length > 0) {
        const top = stack[stack.length - 1]!;
        if (top.next < top.layer.inputs.length) {
          const { layer: dep } = this.producer(top.layer, top.next++);
          const s = state.get(dep.id);
          if (s === 'visiting') throw layerError(dep, 'is part of a cycle');
          if (s === undefined) {
            state.set(dep.id, 'visiting');
            stack.push({ layer: dep, next: 0 });
          }
          continue;
        }
        stack.pop();
        state.set(top.layer.id, 'done');
        order.push(top.layer);
      }
    }
    return order;
  }
}
