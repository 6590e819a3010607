/**
 * Writes decoded 8-bit HWC pixels into a model input tensor: channel order (RGB/BGR), element
 * type and layout (NHWC or NCHW) in one pass, straight into the batch tensor (no intermediate).
 * Values are the raw 0–255 pixel values, as OVMS converts them; normalisation (mean/scale) is the
 * model's business (see runtime layouts/normalisation).
 */
import { type DType, type NumericArray, dtypeInfo } from '../core/dtype.js';
import { numberToHalfBits } from '../core/fp16.js';

export type ImageLayout = 'NHWC' | 'NCHW';

/** Element types an image can be converted to. */
export function imageDTypeSupported(dtype: DType): boolean {
  return dtype !== 'STRING' && dtype !== 'BOOL';
}

export function allocate(dtype: DType, count: number): NumericArray {
  return new (dtypeInfo(dtype).array!)(count);
}

export interface PixelTarget {
  readonly out: NumericArray;
  readonly dtype: DType;
  readonly layout: ImageLayout;
  /** Index of the image in the batch. */
  readonly index: number;
  readonly height: number;
  readonly width: number;
  readonly channels: number;
  /** Reverse the first three channels (sharp decodes RGB; BGR models want them swapped). */
  readonly bgr: boolean;
}

/** Copies one image (`pixels`, HWC u8 with `channels` channels, already height×width) into `t.out`. */
export function writePixels(pixels: Uint8Array, t: PixelTarget): void {
  const { out, height, width, channels, layout, index } = t;
  const plane = height * width;
  const imageSize = plane * channels;
  const base = index * imageSize;
  const swap = t.bgr && channels >= 3;
  const map = (c: number) => (swap && c < 3 ? 2 - c : c);

  if (layout === 'NHWC' && t.dtype === 'UINT8' && !swap) {
    (out as Uint8Array).set(pixels.subarray(0, imageSize), base);
    return;
  }
  const put = setter(t.dtype, out);
  if (layout === 'NHWC') {
    for (let p = 0; p < plane; p++) {
      const src = p * channels;
      for (let c = 0; c < channels; c++) put(base + src + c, pixels[src + map(c)]!);
    }
    return;
  }
  for (let c = 0; c < channels; c++) {
    const dst = base + c * plane;
    const srcC = map(c);
    for (let p = 0; p < plane; p++) put(dst + p, pixels[p * channels + srcC]!);
  }
}

/** Stores a 0–255 value in an element type (saturating for INT8; half bits for FP16). */
function setter(dtype: DType, out: NumericArray): (i: number, v: number) => void {
  switch (dtype) {
    case 'FP16': {
      const a = out as Uint16Array;
      const half = new Uint16Array(256);
      for (let v = 0; v < 256; v++) half[v] = numberToHalfBits(v);
      return (i, v) => { a[i] = half[v]!; };
    }
    case 'INT8': {
      const a = out as Int8Array;
      return (i, v) => { a[i] = v > 127 ? 127 : v; };
    }
    case 'INT64': case 'UINT64': {
      const a = out as BigInt64Array;
      return (i, v) => { a[i] = BigInt(v); };
    }
    default: {
      const a = out as Float32Array;
      return (i, v) => { a[i] = v; };
    }
  }
}
