/**
 * Why an OpenVINO IR model could not be imported. The message names the file, the layer and,
 * for an operation the importer does not know, the operation and its opset, because that is what
 * a user needs to find the offending node in the .xml.
 */
export class IrImportError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'IrImportError';
  }
}

/** The layer a problem was found in, as the error messages print it. */
export interface LayerRef {
  readonly id: string;
  readonly name: string;
  readonly type: string;
  readonly version: string;
}

export function layerLabel(layer: LayerRef): string {
  return `layer "${layer.name}" (id ${layer.id}, ${layer.type} from ${layer.version})`;
}

export function unsupportedOp(layer: LayerRef): IrImportError {
  return new IrImportError(
    `unsupported operation ${layer.type} (${layer.version}) in layer "${layer.name}" (id ${layer.id}); `
    + 'see docs/ir-ops.md for the operations tsms can import',
  );
}

export function layerError(layer: LayerRef, problem: string): IrImportError {
  return new IrImportError(`${layerLabel(layer)}: ${problem}`);
}
