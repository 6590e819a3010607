/**
 * Image files → input tensors with sharp: optional resize, RGB or BGR channel order, NHWC or
 * NCHW layout, FP32 (scaled and mean-shifted) or UINT8 values.
 */
import sharp from 'sharp';
import type { Tensor } from '../core/tensor.js';

export interface ImageOptions {
  /** Resize to width × height (stretching, as most model preprocessing does); original size when absent. */
  readonly width?: number;
  readonly height?: number;
  readonly layout?: 'NHWC' | 'NCHW';
  readonly order?: 'RGB' | 'BGR';
  /** FP32 (default) or UINT8 raw pixels. */
  readonly dtype?: 'FP32' | 'UINT8';
  /**
   * FP32 only: value = (pixel - mean) / scale, one value for all channels or one per channel in
   * RGB order; defaults mean 0, scale 1 (pixels 0–255).
   */
  readonly scale?: number | readonly [number, number, number];
  readonly mean?: number | readonly [number, number, number];
  /** With both width and height: `fill` stretches (default), `cover` keeps the aspect ratio and centre-crops. */
  readonly fit?: 'fill' | 'cover';
}

/** The decoded pixels before layout, for callers that draw on the image (the console, examples). */
export interface DecodedImage {
  readonly width: number;
  readonly height: number;
  /** RGB, row-major, 3 bytes a pixel. */
  readonly rgb: Uint8Array;
}

export async function decodeImage(file: Uint8Array | string, opts: Pick<ImageOptions, 'width' | 'height' | 'fit'> = {}): Promise<DecodedImage> {
  let img = sharp(file).removeAlpha().toColourspace('srgb');
  if (opts.width !== undefined || opts.height !== undefined) {
    img = img.resize(opts.width, opts.height, { fit: opts.width !== undefined && opts.height !== undefined ? opts.fit ?? 'fill' : 'cover' });
  }
  const { data, info } = await img.raw().toBuffer({ resolveWithObject: true });
  if (info.channels !== 3) throw new Error(`expected 3 colour channels after decoding, got ${info.channels}`);
  return { width: info.width, height: info.height, rgb: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) };
}

export function imageToTensor(image: DecodedImage, opts: ImageOptions = {}): Tensor {
  const { width: w, height: h, rgb } = image;
  const layout = opts.layout ?? 'NHWC';
  const bgr = (opts.order ?? 'RGB') === 'BGR';
  const perChannel = (v: number | readonly number[] | undefined, fallback: number) => (Array.isArray(v) ? v : [0, 1, 2].map(() => (v as number | undefined) ?? fallback));
  const scale = perChannel(opts.scale, 1);
  const mean = perChannel(opts.mean, 0);
  const uint8 = opts.dtype === 'UINT8';
  const out = uint8 ? new Uint8Array(w * h * 3) : new Float32Array(w * h * 3);
  const plane = w * h;
  for (let p = 0; p < plane; p++) {
    for (let c = 0; c < 3; c++) {
      // c is the output channel; rgbChannel the source one (mean/scale are given in RGB order).
      const rgbChannel = bgr ? 2 - c : c;
      const v = rgb[p * 3 + rgbChannel]!;
      const at = layout === 'NHWC' ? p * 3 + c : c * plane + p;
      out[at] = uint8 ? v : (v - mean[rgbChannel]!) / scale[rgbChannel]!;
    }
  }
  return { dtype: uint8 ? 'UINT8' : 'FP32', shape: layout === 'NHWC' ? [1, h, w, 3] : [1, 3, h, w], data: out };
}

export async function loadImageTensor(file: Uint8Array | string, opts: ImageOptions = {}): Promise<Tensor> {
  return imageToTensor(await decodeImage(file, opts), opts);
}
