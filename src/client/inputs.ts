import type { Tensor } from '../core/tensor.js';
import type { InferInputs } from './types.js';

/** Inputs as ordered entries, whether given as a Map or a plain object. */
export function inputEntries(inputs: InferInputs): [string, Tensor][] {
  return inputs instanceof Map ? [...inputs.entries()] : Object.entries(inputs as Record<string, Tensor>);
}
