/**
 * Custom node "image crop": cuts boxes out of an image and turns each into a model-ready tensor
 * (resize, channel order, normalisation, layout) — the step between a detector and a per-object
 * model (text detection → recognition, face detection → classification). With `mode: "full"` it
 * prepares the whole image instead (the detector's own input).
 *
 * Inputs
 *   image  UINT8 [1, H, W, C]  the picture, NHWC, channel order `input_color`
 *   boxes  FP32  [N, 4]        (mode "boxes") x1, y1, x2, y2; fractions of the image size unless
 *                              `boxes_normalized` is "false" (then pixels)
 * Outputs, mode "boxes" (demultiplex them with `demultiply_count: 0`)
 *   images       FP32 [N, 1, C, h, w] (or [N, 1, h, w, C] with `output_layout: NHWC`); with
 *                `pad_to_widest: "false"` a list of N tensors [1, C, h, w_i], each crop at its own
 *                width (only a demultiplexing node may return that)
 *   coordinates  FP32 [N, 1, 4]   the pixel rectangle each crop was cut from
 * Output, mode "full"
 *   image  FP32 [1, C, h, w] (or NHWC)
 *
 * Params (strings, all optional)
 *   mode              "boxes" | "full"                                        (boxes)
 *   channels          channels of the input image                             (3)
 *   input_color       "BGR" | "RGB": order of the input channels              (BGR)
 *   output_color      order wanted by the model                               (= input_color)
 *   output_layout     "NCHW" | "NHWC"                                          (NCHW)
 *   target_height     output height; 0 = the crop's own                        (0)
 *   target_width      output width; 0 = keep the aspect ratio                  (0)
 *   max_width         cap for an aspect-ratio width; 0 = none                  (0)
 *   max_side          full mode: shrink so the longer side is at most this     (0 = no limit)
 *   size_multiple     full mode: round height and width to a multiple of this  (0 = no rounding)
 *   scale, mean, std  value = (pixel / scale - mean[c]) / std[c], per output channel
 *                                                                 (255, 0, 1 → values in 0..1)
 *   pad_to_widest     mode boxes with target_width 0: "true" pads crops narrower than the widest
 *                     on the right so all fit one tensor; "false" keeps each at its own width.
 *                     Models that look at the whole line at once (PP-OCRv4 rec) read padded
 *                     crops worse.                                              (true)
 *   pad_value         the padding value (after normalisation)                  (0)
 *   boxes_normalized  "true" | "false"                                         (true)
 *
 * Resizing is bilinear with pixel centres aligned (OpenCV's INTER_LINEAR) and rounded back to whole
 * pixel values before normalisation, as an 8-bit resize would be.
 */
import type { CustomNodeParams, CustomNodeTensorInfo, CustomNodeTensors, Tensor } from '../src/pipeline/custom-node-api.js';
import { boolParam, choiceParam, listParam, numberParam } from './params.js';

interface Settings {
  readonly mode: 'boxes' | 'full';
  readonly channels: number;
  /** For each output channel, the input channel it is read from. */
  readonly channelSource: readonly number[];
  readonly layout: 'NCHW' | 'NHWC';
  readonly targetHeight: number;
  readonly targetWidth: number;
  readonly maxWidth: number;
  readonly maxSide: number;
  readonly sizeMultiple: number;
  readonly scale: number;
  readonly mean: readonly number[];
  readonly std: readonly number[];
  readonly padValue: number;
  readonly padToWidest: boolean;
  readonly boxesNormalized: boolean;
}

export function initialize(params: CustomNodeParams): Settings {
  const mode = choiceParam(params, 'mode', ['boxes', 'full'] as const, 'boxes');
  const channels = numberParam(params, 'channels', 3, { min: 1, integer: true });
  const inputColor = choiceParam(params, 'input_color', ['BGR', 'RGB'] as const, 'BGR');
  const outputColor = choiceParam(params, 'output_color', ['BGR', 'RGB'] as const, inputColor);
  const swap = channels === 3 && inputColor !== outputColor;
  const std = listParam(params, 'std', [1], channels);
  if (std.some((s) => s === 0)) throw new Error('param std: values must not be 0');
  const scale = numberParam(params, 'scale', 255);
  if (scale === 0) throw new Error('param scale: must not be 0');
  return {
    mode,
    channels,
    channelSource: Array.from({ length: channels }, (_, c) => (swap ? 2 - c : c)),
    layout: choiceParam(params, 'output_layout', ['NCHW', 'NHWC'] as const, 'NCHW'),
    targetHeight: numberParam(params, 'target_height', 0, { min: 0, integer: true }),
    targetWidth: numberParam(params, 'target_width', 0, { min: 0, integer: true }),
    maxWidth: numberParam(params, 'max_width', 0, { min: 0, integer: true }),
    maxSide: numberParam(params, 'max_side', 0, { min: 0, integer: true }),
    sizeMultiple: numberParam(params, 'size_multiple', 0, { min: 0, integer: true }),
    scale,
    mean: listParam(params, 'mean', [0], channels),
    std,
    padValue: numberParam(params, 'pad_value', 0),
    padToWidest: boolParam(params, 'pad_to_widest', true),
    boxesNormalized: boolParam(params, 'boxes_normalized', true),
  };
}

export function getInputsInfo(_params: CustomNodeParams, s: Settings): CustomNodeTensorInfo[] {
  const image: CustomNodeTensorInfo = { name: 'image', dtype: 'UINT8', shape: [1, -1, -1, s.channels] };
  return s.mode === 'full' ? [image] : [image, { name: 'boxes', dtype: 'FP32', shape: [-1, 4] }];
}

export function getOutputsInfo(_params: CustomNodeParams, s: Settings): CustomNodeTensorInfo[] {
  const fixedSize = s.mode === 'full' && s.targetHeight > 0 && s.targetWidth > 0;
  const h = s.targetHeight > 0 && (s.mode === 'boxes' || fixedSize) ? s.targetHeight : -1;
  const w = s.targetWidth > 0 && (s.mode === 'boxes' || fixedSize) ? s.targetWidth : -1;
  const dims = s.layout === 'NCHW' ? [s.channels, h, w] : [h, w, s.channels];
  if (s.mode === 'full') return [{ name: 'image', dtype: 'FP32', shape: [1, ...dims] }];
  return [
    { name: 'images', dtype: 'FP32', shape: [-1, 1, ...dims] },
    { name: 'coordinates', dtype: 'FP32', shape: [-1, 1, 4] },
  ];
}

export function execute(inputs: CustomNodeTensors, _params: CustomNodeParams, s: Settings): Record<string, Tensor | Tensor[]> {
  const image = readImage(inputs['image'], s.channels);
  if (s.mode === 'full') {
    const { height, width } = fullSize(image.height, image.width, s);
    const data = new Float32Array(s.channels * height * width);
    resizeInto(image, { x: 0, y: 0, width: image.width, height: image.height }, data, 0, height, width, width, s);
    return { image: { dtype: 'FP32', shape: s.layout === 'NCHW' ? [1, s.channels, height, width] : [1, height, width, s.channels], data } };
  }

  const regions = readBoxes(inputs['boxes'], image, s.boxesNormalized);
  const sizes = regions.map((r) => cropSize(r, s));
  const coordinates = new Float32Array(regions.length * 4);
  regions.forEach((r, i) => coordinates.set([r.x, r.y, r.x + r.width, r.y + r.height], i * 4));
  const coordinatesTensor: Tensor = { dtype: 'FP32', shape: [regions.length, 1, 4], data: coordinates };
  if (!s.padToWidest && s.targetWidth === 0) {
    const crops = regions.map((r, i): Tensor => {
      const { height, width } = sizes[i]!;
      const data = new Float32Array(s.channels * height * width);
      resizeInto(image, r, data, 0, height, width, width, s);
      return { dtype: 'FP32', shape: s.layout === 'NCHW' ? [1, s.channels, height, width] : [1, height, width, s.channels], data };
    });
    return { images: crops, coordinates: coordinatesTensor };
  }
  const height = s.targetHeight > 0 ? s.targetHeight : Math.max(1, ...sizes.map((z) => z.height));
  const width = s.targetWidth > 0 ? s.targetWidth : Math.max(1, ...sizes.map((z) => z.width));
  const per = s.channels * height * width;
  const images = new Float32Array(regions.length * per);
  if (s.padValue !== 0) images.fill(s.padValue);
  regions.forEach((r, i) => {
    // A crop keeps its own height when target_height is 0; every crop is then as tall as the tallest.
    resizeInto(image, r, images, i * per, Math.min(sizes[i]!.height, height), sizes[i]!.width, width, s, height);
  });
  const dims = s.layout === 'NCHW' ? [s.channels, height, width] : [height, width, s.channels];
  return {
    images: { dtype: 'FP32', shape: [regions.length, 1, ...dims], data: images },
    coordinates: coordinatesTensor,
  };
}

// -------------------------------------------------------------------------------------------------

interface Image {
  readonly data: Uint8Array;
  readonly height: number;
  readonly width: number;
  readonly channels: number;
}

interface Region {
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}

function readImage(t: Tensor | undefined, channels: number): Image {
  if (!t || t.dtype !== 'UINT8' || !(t.data instanceof Uint8Array)) throw new Error('input image must be a UINT8 tensor');
  const [n, height, width, c] = t.shape;
  if (t.shape.length !== 4 || n !== 1 || c !== channels || !(height! > 0) || !(width! > 0)) {
    throw new Error(`input image must have shape [1, H, W, ${channels}]; got [${t.shape.join(', ')}]`);
  }
  return { data: t.data, height: height!, width: width!, channels };
}

/** Boxes → pixel rectangles inside the image, at least one pixel each. */
function readBoxes(t: Tensor | undefined, image: Image, normalized: boolean): Region[] {
  if (!t || t.dtype !== 'FP32' || !(t.data instanceof Float32Array)) throw new Error('input boxes must be an FP32 tensor');
  if (t.shape.length !== 2 || t.shape[1] !== 4) throw new Error(`input boxes must have shape [N, 4]; got [${t.shape.join(', ')}]`);
  const b = t.data;
  const sx = normalized ? image.width : 1;
  const sy = normalized ? image.height : 1;
  const regions: Region[] = [];
  for (let i = 0; i < t.shape[0]!; i++) {
    const [x1, y1, x2, y2] = [b[i * 4]!, b[i * 4 + 1]!, b[i * 4 + 2]!, b[i * 4 + 3]!];
    if (![x1, y1, x2, y2].every(Number.isFinite)) throw new Error(`box ${i} has a coordinate that is not a finite number`);
    const left = clamp(Math.floor(Math.min(x1, x2) * sx), 0, image.width - 1);
    const top = clamp(Math.floor(Math.min(y1, y2) * sy), 0, image.height - 1);
    const right = clamp(Math.ceil(Math.max(x1, x2) * sx), left + 1, image.width);
    const bottom = clamp(Math.ceil(Math.max(y1, y2) * sy), top + 1, image.height);
    regions.push({ x: left, y: top, width: right - left, height: bottom - top });
  }
  return regions;
}

function cropSize(r: Region, s: Settings): { height: number; width: number } {
  const height = s.targetHeight > 0 ? s.targetHeight : r.height;
  let width = s.targetWidth > 0 ? s.targetWidth : Math.max(1, Math.ceil((height * r.width) / r.height));
  if (s.targetWidth === 0 && s.maxWidth > 0) width = Math.min(width, s.maxWidth);
  return { height, width };
}

function fullSize(h0: number, w0: number, s: Settings): { height: number; width: number } {
  if (s.targetHeight > 0 && s.targetWidth > 0) return { height: s.targetHeight, width: s.targetWidth };
  let height: number;
  let width: number;
  if (s.targetHeight > 0) {
    height = s.targetHeight;
    width = Math.max(1, Math.round((w0 * height) / h0));
  } else if (s.targetWidth > 0) {
    width = s.targetWidth;
    height = Math.max(1, Math.round((h0 * width) / w0));
  } else {
    const ratio = s.maxSide > 0 && Math.max(h0, w0) > s.maxSide ? s.maxSide / Math.max(h0, w0) : 1;
    height = Math.max(1, Math.trunc(h0 * ratio));
    width = Math.max(1, Math.trunc(w0 * ratio));
  }
  if (s.sizeMultiple > 0) {
    const m = s.sizeMultiple;
    height = Math.max(m, Math.round(height / m) * m);
    width = Math.max(m, Math.round(width / m) * m);
  }
  return { height, width };
}

/**
 * Bilinear resize of `region` to outH × outW, written normalised into `out` at `offset`, in a block
 * `rowWidth` wide and `blockHeight` tall (wider/taller than the crop when padding).
 */
function resizeInto(
  img: Image, region: Region, out: Float32Array, offset: number,
  outH: number, outW: number, rowWidth: number, s: Settings, blockHeight = outH,
): void {
  const C = img.channels;
  const d = img.data;
  const [strideC, strideY, strideX] = s.layout === 'NCHW' ? [blockHeight * rowWidth, rowWidth, 1] : [1, rowWidth * C, C];
  const rowBytes = img.width * C;
  const lut = normalisationTable(s);
  const same = outH === region.height && outW === region.width;
  const xs = samplePositions(outW, region.width);
  const ys = samplePositions(outH, region.height);
  for (let c = 0; c < C; c++) {
    const k = s.channelSource[c]!;
    const table = lut.subarray(c * 256, c * 256 + 256);
    const plane = offset + c * strideC;
    for (let y = 0; y < outH; y++) {
      const row = plane + y * strideY;
      if (same) {
        // No resize: a straight copy through the table.
        let p = (region.y + y) * rowBytes + region.x * C + k;
        for (let x = 0; x < outW; x++, p += C) out[row + x * strideX] = table[d[p]!]!;
        continue;
      }
      const r0 = (region.y + ys.i0[y]!) * rowBytes + k;
      const r1 = (region.y + ys.i1[y]!) * rowBytes + k;
      const fy = ys.f[y]!;
      for (let x = 0; x < outW; x++) {
        const c0 = (region.x + xs.i0[x]!) * C;
        const c1 = (region.x + xs.i1[x]!) * C;
        const fx = xs.f[x]!;
        const a = d[r0 + c0]!;
        const b = d[r0 + c1]!;
        const e = d[r1 + c0]!;
        const f = d[r1 + c1]!;
        const top = a + (b - a) * fx;
        const bottom = e + (f - e) * fx;
        // Rounded to a whole pixel value, as an 8-bit resize gives, then normalised by table.
        out[row + x * strideX] = table[(top + (bottom - top) * fy + 0.5) | 0]!;
      }
    }
  }
}

const tables = new WeakMap<Settings, Float32Array>();

/** (v / scale - mean[c]) / std[c] for every 8-bit value v of every output channel c. */
function normalisationTable(s: Settings): Float32Array {
  let t = tables.get(s);
  if (!t) {
    t = new Float32Array(s.channels * 256);
    for (let c = 0; c < s.channels; c++) for (let v = 0; v < 256; v++) t[c * 256 + v] = (v / s.scale - s.mean[c]!) / s.std[c]!;
    tables.set(s, t);
  }
  return t;
}

/** Source indices and weights for each destination position (pixel centres aligned, edges clamped). */
function samplePositions(outSize: number, inSize: number): { i0: Int32Array; i1: Int32Array; f: Float32Array } {
  const i0 = new Int32Array(outSize);
  const i1 = new Int32Array(outSize);
  const f = new Float32Array(outSize);
  const ratio = inSize / outSize;
  for (let i = 0; i < outSize; i++) {
    let src = (i + 0.5) * ratio - 0.5;
    if (src < 0) src = 0;
    let lo = Math.floor(src);
    let w = src - lo;
    if (lo >= inSize - 1) {
      lo = inSize - 1;
      w = 0;
    }
    i0[i] = lo;
    i1[i] = Math.min(lo + 1, inSize - 1);
    f[i] = w;
  }
  return { i0, i1, f };
}

function clamp(v: number, lo: number, hi: number): number {
  return v < lo ? lo : v > hi ? hi : v;
}
