/** TensorFlow Serving REST JSON ("row" format: {"instances": [...]} in, {"predictions": [...]} out). */

/** Nests a flat array into the given shape as JSON text (no intermediate nested JS arrays). */
export function nestedJson(data: Float32Array, shape: readonly number[]): string {
  const parts: string[] = [];
  let index = 0;
  const walk = (dim: number) => {
    if (dim === shape.length) {
      parts.push(String(data[index++]));
      return;
    }
    parts.push('[');
    for (let i = 0; i < shape[dim]!; i++) {
      if (i) parts.push(',');
      walk(dim + 1);
    }
    parts.push(']');
  };
  walk(0);
  return parts.join('');
}

/** `{"instances": [...]}`: dim 0 of `shape` is the batch, each instance is one slice. */
export function encodeInstancesBody(data: Float32Array, shape: readonly number[]): Buffer {
  return Buffer.from(`{"instances": ${nestedJson(data, shape)}}`);
}

/** TFS REST predictions for one output, as the server replies (bare-transport body). */
export function encodePredictionsBody(data: Float32Array, shape: readonly number[]): Buffer {
  return Buffer.from(`{\n    "predictions": ${nestedJson(data, shape)}\n}`);
}

/** Flattens `{"predictions": ...}` (row) or `{"outputs": ...}` (column) into floats. */
export function decodePredictions(text: string): Float32Array {
  const obj = JSON.parse(text) as { predictions?: unknown; outputs?: unknown };
  const value = obj.predictions ?? obj.outputs;
  const flat: number[] = [];
  const walk = (v: unknown) => {
    if (Array.isArray(v)) v.forEach(walk);
    else if (typeof v === 'number') flat.push(v);
    else if (v && typeof v === 'object') Object.values(v).forEach(walk);
  };
  walk(value);
  return Float32Array.from(flat);
}
