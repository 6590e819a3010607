/**
 * Turns files into input tensors for the CLI: `.npy` as it is, `.json` (a nested array, or
 * `{"dtype", "shape", "data"}`), images (anything sharp decodes) with layout and size taken from
 * the model's metadata unless given.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { DType } from '../core/dtype.js';
import type { Tensor, TensorSpec } from '../core/tensor.js';
import { imageToTensor, decodeImage, type ImageOptions } from './image.js';
import { decodeNpy } from './npy.js';
import { flatten, tensor } from './tensors.js';
import { isDType } from './types.js';

export const IMAGE_EXTENSIONS = new Set(['.jpg', '.jpeg', '.png', '.bmp', '.webp', '.tif', '.tiff', '.gif']);
export const INPUT_EXTENSIONS = new Set([...IMAGE_EXTENSIONS, '.npy', '.json']);

export async function tensorFromFile(file: string, spec: TensorSpec | undefined, image: ImageOptions): Promise<Tensor> {
  const ext = path.extname(file).toLowerCase();
  const bytes = await readFile(file);
  if (ext === '.npy') return decodeNpy(bytes);
  if (ext === '.json') return tensorFromJson(JSON.parse(bytes.toString('utf8')), spec?.dtype ?? 'FP32');
  if (IMAGE_EXTENSIONS.has(ext)) {
    const opts = { ...imageDefaults(spec), ...definedOnly(image) };
    return imageToTensor(await decodeImage(bytes, opts), opts);
  }
  throw new Error(`${file}: unknown input file type (use .npy, .json or an image)`);
}

export function tensorFromJson(value: unknown, fallback: DType): Tensor {
  if (value !== null && typeof value === 'object' && !Array.isArray(value) && 'data' in value) {
    const v = value as { dtype?: string; datatype?: string; shape?: number[]; data: unknown };
    const name = String(v.dtype ?? v.datatype ?? fallback).toUpperCase();
    const dtype: DType = name === 'BYTES' ? 'STRING' : isDType(name) ? name : fallback;
    const flat = flatten(v.data);
    return tensor(dtype, v.shape ?? flat.shape, flat.values as never);
  }
  const flat = flatten(value);
  return tensor(fallback, flat.shape, flat.values as never);
}

/** Layout, size and element type an image input should have, read off its metadata shape. */
export function imageDefaults(spec: TensorSpec | undefined): ImageOptions {
  if (!spec || spec.shape.length !== 4) return {};
  const [, a, b, c] = spec.shape as [number, number, number, number];
  const dtype = spec.dtype === 'UINT8' ? 'UINT8' : 'FP32';
  if (a === 3) return { layout: 'NCHW', dtype, ...(b > 0 && { height: b }), ...(c > 0 && { width: c }) };
  if (c === 3) return { layout: 'NHWC', dtype, ...(a > 0 && { height: a }), ...(b > 0 && { width: b }) };
  return {};
}

function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
