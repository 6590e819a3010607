/**
 * Splitting a tensor along its first dimension (demultiplexing) and stacking shards back
 * (gathering). Splitting never copies: each shard is a view of the original memory. Stacking copies
 * unless the shards are already consecutive views of one buffer (a split gathered right back).
 */
import { dtypeInfo, type NumericArray } from '../core/dtype.js';
import { elementCount, formatShape, isStringData, type Tensor } from '../core/tensor.js';
import { pipelineError } from './status.js';

/** Shards of `tensor` along dim 0 (the tensor must have at least one dimension). */
export function splitTensor(tensor: Tensor): Tensor[] {
  const count = tensor.shape[0]!;
  const shape = tensor.shape.slice(1);
  const per = elementCount(shape);
  const shards: Tensor[] = [];
  for (let i = 0; i < count; i++) {
    const data = isStringData(tensor.data)
      ? tensor.data.slice(i * per, (i + 1) * per)
      : (tensor.data as NumericArray).subarray(i * per, (i + 1) * per);
    shards.push({ dtype: tensor.dtype, shape, data });
  }
  return shards;
}

/**
 * One tensor of shape [shards.length, ...shard shape]. Every shard must have the same dtype and
 * shape ("Gathered tensor shards dimensions are different" otherwise).
 */
export function stackTensors(shards: readonly Tensor[], what: string): Tensor {
  const first = shards[0];
  if (!first) throw new RangeError('nothing to gather');
  for (const s of shards) {
    if (s.dtype !== first.dtype || s.shape.length !== first.shape.length || s.shape.some((d, i) => d !== first.shape[i])) {
      throw pipelineError('PIPELINE_INCONSISTENT_SHARD_DIMENSIONS',
        `${what}: ${first.dtype} ${formatShape(first.shape)} vs ${s.dtype} ${formatShape(s.shape)}`);
    }
  }
  const shape = [shards.length, ...first.shape];
  if (isStringData(first.data)) {
    const data: Uint8Array[] = [];
    for (const s of shards) data.push(...(s.data as readonly Uint8Array[]));
    return { dtype: first.dtype, shape, data };
  }
  const contiguous = contiguousView(shards.map((s) => s.data as NumericArray));
  if (contiguous) return { dtype: first.dtype, shape, data: contiguous };
  const per = (first.data as NumericArray).length;
  const Ctor = dtypeInfo(first.dtype).array!;
  const data = new Ctor(per * shards.length);
  shards.forEach((s, i) => (data as Float32Array).set(s.data as Float32Array, i * per));
  return { dtype: first.dtype, shape, data };
}

/** The shards as one view when they lie back to back in one buffer, in order. */
function contiguousView(parts: readonly NumericArray[]): NumericArray | undefined {
  const first = parts[0]!;
  let end = first.byteOffset + first.byteLength;
  for (let i = 1; i < parts.length; i++) {
    const p = parts[i]!;
    if (p.buffer !== first.buffer || p.byteOffset !== end || p.constructor !== first.constructor) return undefined;
    end += p.byteLength;
  }
  const Ctor = first.constructor as new (b: ArrayBufferLike, o: number, l: number) => NumericArray;
  return new Ctor(first.buffer, first.byteOffset, (end - first.byteOffset) / first.BYTES_PER_ELEMENT);
}
