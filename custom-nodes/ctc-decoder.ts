/**
 * Custom node "CTC decoder": turns a text-recognition model's per-step class probabilities into
 * text (greedy CTC: best class per step, repeats merged, blanks dropped), as PaddleOCR decodes its
 * rec models. Placed after a recognition model in a demultiplexed branch, it also makes every
 * branch's result the same shape (one string), so the branches can be gathered even when each
 * crop was read at its own width.
 *
 * Input
 *   probabilities  FP32 [B, T, classes]   e.g. ppocr-rec's softmax output
 * Outputs
 *   texts   STRING [B]  UTF-8
 *   scores  FP32   [B]  mean probability of the characters kept (0 for an empty text)
 *
 * Params
 *   dictionary      path of the character list, one per line: line k is class k (required;
 *                   absolute, or relative to the server's working directory)
 *   blank_index     the CTC blank class                                         (0)
 *   use_space_char  "true": the class after the last dictionary line is a space  (true)
 */
import { readFile } from 'node:fs/promises';
import type { CustomNodeParams, CustomNodeTensorInfo, CustomNodeTensors, Tensor } from '../src/pipeline/custom-node-api.js';
import { boolParam, numberParam } from './params.js';

interface Settings {
  /** Class index → text; the blank maps to undefined. */
  readonly characters: readonly (string | undefined)[];
  readonly blank: number;
}

export async function initialize(params: CustomNodeParams): Promise<Settings> {
  const file = params['dictionary'];
  if (!file) throw new Error('param dictionary is required (path of the character list)');
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new Error(`param dictionary: cannot read ${file}: ${(err as Error).message}`);
  }
  const lines = text.split('\n').map((l) => l.replace(/\r$/, ''));
  if (lines.length > 0 && lines[lines.length - 1] === '' && text.endsWith('\n')) lines.pop();
  const blank = numberParam(params, 'blank_index', 0, { min: 0, integer: true });
  const characters: (string | undefined)[] = [];
  // Classes are: blank at `blank`, then the dictionary lines in order, then the optional space.
  const entries = [...lines, ...(boolParam(params, 'use_space_char', true) ? [' '] : [])];
  let next = 0;
  for (let cls = 0; next < entries.length; cls++) {
    if (cls === blank) characters.push(undefined);
    else characters.push(entries[next++]);
  }
  if (blank >= characters.length) characters[blank] = undefined;
  return { characters, blank };
}

export function getInputsInfo(): CustomNodeTensorInfo[] {
  return [{ name: 'probabilities', dtype: 'FP32', shape: [-1, -1, -1] }];
}

export function getOutputsInfo(): CustomNodeTensorInfo[] {
  return [
    { name: 'texts', dtype: 'STRING', shape: [-1] },
    { name: 'scores', dtype: 'FP32', shape: [-1] },
  ];
}

const utf8 = new TextEncoder();

export function execute(inputs: CustomNodeTensors, _params: CustomNodeParams, s: Settings): Record<string, Tensor> {
  const t = inputs['probabilities'];
  if (!t || t.dtype !== 'FP32' || !(t.data instanceof Float32Array) || t.shape.length !== 3) {
    throw new Error('input probabilities must be an FP32 tensor [batch, steps, classes]');
  }
  const [batch, steps, classes] = t.shape as [number, number, number];
  if (classes !== s.characters.length) {
    throw new Error(`the model gives ${classes} classes but the dictionary (with blank and space) makes ${s.characters.length}`);
  }
  const p = t.data;
  const texts: Uint8Array[] = [];
  const scores = new Float32Array(batch);
  for (let b = 0; b < batch; b++) {
    let text = '';
    let sum = 0;
    let kept = 0;
    let previous = -1;
    for (let step = 0; step < steps; step++) {
      const offset = (b * steps + step) * classes;
      let best = 0;
      for (let c = 1; c < classes; c++) if (p[offset + c]! > p[offset + best]!) best = c;
      if (best !== previous && best !== s.blank) {
        text += s.characters[best] ?? '';
        sum += p[offset + best]!;
        kept++;
      }
      previous = best;
    }
    texts.push(utf8.encode(text));
    scores[b] = kept > 0 ? sum / kept : 0;
  }
  return {
    texts: { dtype: 'STRING', shape: [batch], data: texts },
    scores: { dtype: 'FP32', shape: [batch], data: scores },
  };
}
