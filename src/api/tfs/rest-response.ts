/**
 * Predict outputs → TFS REST response body (SPEC §6.3):
 *  - row request    → {"predictions": [item, …]}: one element per batch item; the item's nested
 *                     array for a single output, else {"out1": …, "out2": …} per item. All outputs
 *                     must share dim 0, else "Response parsing to JSON error" (500), as in TFS.
 *  - column request → {"outputs": <ndarray>} for a single output, else {"outputs": {"out1": …}}.
 * Written compactly (TFS pretty-prints; clients parse either).
 */
import { servingError } from '../../core/errors.js';
import { formatShape, type TensorMap } from '../../core/tensor.js';
import type { PredictFormat } from './rest-request.js';
import { tensorItemsJson, tensorJson } from './rest-json-writer.js';

export function encodePredictResponse(format: PredictFormat, outputs: TensorMap): string {
  return format === 'row' ? rowResponse(outputs) : columnResponse(outputs);
}

function columnResponse(outputs: TensorMap): string {
  if (outputs.size === 1) {
    const [name, tensor] = outputs.entries().next().value!;
    return `{"outputs":${tensorJson(name, tensor)}}`;
  }
  const fields: string[] = [];
  for (const [name, tensor] of outputs) fields.push(`${JSON.stringify(name)}:${tensorJson(name, tensor)}`);
  return `{"outputs":{${fields.join(',')}}}`;
}

function rowResponse(outputs: TensorMap): string {
  let batch: number | undefined;
  for (const [name, tensor] of outputs) {
    if (tensor.shape.length === 0) {
      throw servingError('REST_PROTO_TO_STRING_ERROR', `output ${name} is a scalar; the row format needs a batch dimension (use the column format)`);
    }
    batch ??= tensor.shape[0];
    if (tensor.shape[0] !== batch) {
      const shapes = [...outputs].map(([n, t]) => `${n} ${formatShape(t.shape)}`).join(', ');
      throw servingError('REST_PROTO_TO_STRING_ERROR', `outputs differ in batch size (${shapes}); use the column format`);
    }
  }
  if (outputs.size === 1) {
    const [name, tensor] = outputs.entries().next().value!;
    return `{"predictions":${tensorJson(name, tensor)}}`;
  }
  const names = [...outputs.keys()].map((n) => JSON.stringify(n));
  const items = [...outputs].map(([name, tensor]) => tensorItemsJson(name, tensor));
  const rows: string[] = new Array(batch!);
  for (let i = 0; i < batch!; i++) {
    rows[i] = `{${names.map((n, k) => `${n}:${items[k]![i]}`).join(',')}}`;
  }
  return `{"predictions":[${rows.join(',')}]}`;
}
