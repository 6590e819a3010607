/**
 * OVMS binary inputs (SPEC §6.2): a STRING tensor of shape [N] sent to a numeric image input holds
 * N encoded images (TFS gRPC string_val, TFS REST {"b64": …}, KServe BYTES). They become one
 * numeric tensor [N, H, W, C] or [N, C, H, W] in the input's layout and element type, resized to
 * the input's H×W when those are fixed. Protocols only deliver bytes; this runs in serving, so
 * every protocol gets it. The structural checks (rank 1, batch, empty elements) are in
 * validation.ts, which runs first.
 */
import type { ColorFormat } from '../config/types.js';
import { dtypeInfo } from '../core/dtype.js';
import { servingError } from '../core/errors.js';
import { formatShape, isStringData, type Tensor, type TensorMap, type TensorSpec } from '../core/tensor.js';
import { looksNhwc } from '../serving/model-shapes.js';
import { handOver } from '../runtime/owned-buffers.js';
import { decodeImage, ImageError, MAX_IMAGE_PIXELS, type DecodedImage } from './decode.js';
import { allocate, imageDTypeSupported, type ImageLayout, writePixels } from './pixels.js';

/** Most decoded pixels one request may produce (all its images together): 256 Mpx. */
export const MAX_REQUEST_PIXELS = 4 * MAX_IMAGE_PIXELS;

export interface BinaryInputOptions {
  /** Client-side layout letters of inputs whose layout was configured (e.g. "NHWC"). */
  readonly layouts?: Readonly<Record<string, string>>;
  /** Channel order per input; BGR when absent (OVMS decodes with OpenCV, which gives BGR). */
  readonly colorFormats?: Readonly<Record<string, ColorFormat>>;
  /** Inputs whose H×W follow the images (`shape: auto`): no resize, the images set the size. */
  readonly keepSize?: ReadonlySet<string>;
  /**
   * The decoded tensors may be read by more than one consumer (a pipeline input can feed several
   * nodes and be an output itself): keep them, instead of letting a worker runtime take them.
   */
  readonly shared?: boolean;
}

/** True when `tensor` is encoded images for `spec` (bytes sent to an input that is not STRING). */
export function isBinaryInput(spec: TensorSpec | undefined, tensor: Tensor): boolean {
  return spec !== undefined && spec.dtype !== 'STRING' && tensor.dtype === 'STRING' && isStringData(tensor.data);
}

export function hasBinaryInputs(specs: readonly TensorSpec[], inputs: TensorMap): boolean {
  for (const spec of specs) {
    const t = inputs.get(spec.name);
    if (t && isBinaryInput(spec, t)) return true;
  }
  return false;
}

/** Replaces every binary input with its decoded tensor; other inputs pass through untouched. */
export async function decodeBinaryInputs(specs: readonly TensorSpec[], inputs: TensorMap, options: BinaryInputOptions = {}): Promise<TensorMap> {
  const out: TensorMap = new Map(inputs);
  for (const spec of specs) {
    const tensor = inputs.get(spec.name);
    if (!tensor || !isBinaryInput(spec, tensor)) continue;
    out.set(spec.name, await decodeInput(spec, tensor.data as readonly Uint8Array[], options));
  }
  return out;
}

interface Axes {
  readonly layout: ImageLayout;
  readonly h: number;
  readonly w: number;
  readonly c: number;
}

/**
 * Where H, W and C sit in the input: from its configured (client-side) layout, else from its
 * shape (ONNX image models are NCHW by convention; a last dim of 1/3/4 channels means NHWC).
 */
function axesOf(spec: TensorSpec, configured: string | undefined): Axes {
  if (spec.shape.length !== 4) {
    throw servingError('UNSUPPORTED_LAYOUT', `input ${spec.name} has shape ${formatShape(spec.shape)}; binary images need a 4-D NHWC or NCHW input`);
  }
  let layout: ImageLayout;
  if (configured === 'NHWC' || configured === 'NCHW') layout = configured;
  else if (configured !== undefined) throw servingError('UNSUPPORTED_LAYOUT', `input ${spec.name} has layout ${configured}; binary images need NHWC or NCHW`);
  else layout = looksNhwc(spec.shape) ? 'NHWC' : 'NCHW';
  return layout === 'NHWC' ? { layout, h: 1, w: 2, c: 3 } : { layout, h: 2, w: 3, c: 1 };
}

async function decodeInput(spec: TensorSpec, images: readonly Uint8Array[], options: BinaryInputOptions): Promise<Tensor> {
  const axes = axesOf(spec, options.layouts?.[spec.name]);
  if (!imageDTypeSupported(spec.dtype)) {
    throw servingError('INVALID_PRECISION', `binary images cannot be converted to ${dtypeInfo(spec.dtype).ov} (input ${spec.name})`);
  }
  const height = spec.shape[axes.h]!;
  const width = spec.shape[axes.w]!;
  const fixedSize = height > 0 && width > 0 && !options.keepSize?.has(spec.name);
  const size = fixedSize ? { width, height } : undefined;

  // Decoded together on libuv's pool; the first failure answers the request.
  let decoded: DecodedImage[];
  try {
    decoded = await Promise.all(images.map((bytes) => decodeImage(bytes, size)));
  } catch (err) {
    if (err instanceof ImageError) throw servingError('IMAGE_PARSING_FAILED', err.message);
    throw err;
  }

  const first = decoded[0]!;
  let pixels = 0;
  for (const img of decoded) {
    if (img.width !== first.width || img.height !== first.height) {
      throw servingError('BINARY_IMAGES_RESOLUTION_MISMATCH', `input ${spec.name}: ${first.width}x${first.height} and ${img.width}x${img.height}`);
    }
    const channels = spec.shape[axes.c]!;
    if (channels >= 0 && img.channels !== channels) {
      throw servingError('INVALID_NO_OF_CHANNELS', `Expected: ${channels}; Actual: ${img.channels}; input name: ${spec.name}`);
    }
    if (img.channels !== first.channels) throw servingError('INVALID_NO_OF_CHANNELS', `images of input ${spec.name} have ${first.channels} and ${img.channels} channels`);
    pixels += img.width * img.height;
  }
  if (pixels > MAX_REQUEST_PIXELS) {
    throw servingError('IMAGE_PARSING_FAILED', `the images of input ${spec.name} hold ${pixels} pixels together; at most ${MAX_REQUEST_PIXELS} are accepted per request`);
  }

  const n = decoded.length;
  const { width: w, height: h, channels: c } = first;
  const shape = axes.layout === 'NHWC' ? [n, h, w, c] : [n, c, h, w];
  const data = allocate(spec.dtype, n * h * w * c);
  const bgr = (options.colorFormats?.[spec.name] ?? 'BGR') === 'BGR';
  decoded.forEach((img, index) => {
    writePixels(img.data, { out: data, dtype: spec.dtype, layout: axes.layout, index, height: h, width: w, channels: c, bgr });
  });
  // Nobody else holds this memory: a worker-thread runtime may take it without a copy.
  if (!options.shared) handOver(data.buffer);
  return { dtype: spec.dtype, shape, data };
}
