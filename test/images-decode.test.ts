/**
 * Binary (image) inputs in-process: encoded PNG/JPEG bytes → the model input tensor, in the
 * input's layout, element type and channel order, resized when the input's H×W are fixed; and the
 * OVMS errors for corrupt, oversized, wrongly-channelled and mismatched images.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { crc32 } from 'node:zlib';
import sharp from 'sharp';
import { ServingError } from '../src/core/errors.js';
import type { Tensor, TensorSpec } from '../src/core/tensor.js';
import { decodeBinaryInputs } from '../src/image/binary-inputs.js';
import { validateInputs } from '../src/serving/validation.js';

/** A lossless PNG whose pixel (x, y) has channels [10·x + c, 100 + y, 200 - c] (c = 0, 1, 2 for RGB). */
async function patternPng(width: number, height: number, channels: 1 | 3 = 3): Promise<Buffer> {
  const raw = Buffer.alloc(width * height * channels);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      for (let c = 0; c < channels; c++) raw[(y * width + x) * channels + c] = [10 * x, 100 + y, 200][c]!;
    }
  }
  const img = sharp(raw, { raw: { width, height, channels } });
  return (channels === 1 ? img.toColourspace('b-w') : img).png().toBuffer();
}

/** RGB of pixel (x, y) in patternPng. */
const rgbAt = (x: number, y: number) => [10 * x, 100 + y, 200];

function strings(...buffers: Uint8Array[]): Tensor {
  return { dtype: 'STRING', shape: [buffers.length], data: buffers };
}

async function decode(spec: TensorSpec, tensor: Tensor, options = {}): Promise<Tensor> {
  validateInputs([spec], new Map([[spec.name, tensor]]));
  const out = await decodeBinaryInputs([spec], new Map([[spec.name, tensor]]), options);
  return out.get(spec.name)!;
}

async function rejectsWith(promise: Promise<unknown> | (() => unknown), message: string | RegExp, code = 'INVALID_ARGUMENT'): Promise<void> {
  await assert.rejects(async () => (typeof promise === 'function' ? promise() : promise), (err: unknown) => {
    assert.ok(err instanceof ServingError, `expected a ServingError, got ${String(err)}`);
    assert.equal(err.code, code);
    if (typeof message === 'string') assert.equal(err.message, message);
    else assert.match(err.message, message);
    return true;
  });
}

/** A PNG header claiming width×height pixels, followed by no real image data (a decompression-bomb stand-in). */
function hugePngHeader(width: number, height: number): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, 2, 0, 0, 0], 8); // 8-bit RGB
  const chunk = (type: string, data: Buffer) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(body));
    return Buffer.concat([len, body, crc]);
  };
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr), chunk('IDAT', Buffer.alloc(64)), chunk('IEND', Buffer.alloc(0))]);
}

describe('binary image inputs: conversion', () => {
  it('NHWC UINT8 keeps the bytes, in BGR order by default (as OVMS decodes with OpenCV)', async () => {
    const png = await patternPng(4, 3);
    // [1,3,4,3] could be either layout; the configured one decides.
    const t = await decode({ name: 'img', dtype: 'UINT8', shape: [1, 3, 4, 3] }, strings(png), { layouts: { img: 'NHWC' } });
    assert.deepEqual(t.shape, [1, 3, 4, 3]);
    const data = t.data as Uint8Array;
    const [r, g, b] = rgbAt(2, 1);
    const at = (1 * 4 + 2) * 3;
    assert.deepEqual([...data.subarray(at, at + 3)], [b, g, r]);
  });

  it('color_format RGB keeps sharp\'s order', async () => {
    const png = await patternPng(4, 3);
    const t = await decode({ name: 'img', dtype: 'UINT8', shape: [1, 3, 4, 3] }, strings(png), { colorFormats: { img: 'RGB' }, layouts: { img: 'NHWC' } });
    const at = (2 * 4 + 3) * 3;
    assert.deepEqual([...(t.data as Uint8Array).subarray(at, at + 3)], rgbAt(3, 2));
  });

  it('an NCHW FP32 input gets planes of raw 0–255 values', async () => {
    const png = await patternPng(4, 3);
    const t = await decode({ name: 'x', dtype: 'FP32', shape: [1, 3, 3, 4] }, strings(png), { colorFormats: { x: 'RGB' } });
    assert.deepEqual(t.shape, [1, 3, 3, 4]);
    const data = t.data as Float32Array;
    const plane = 12;
    const [r, g, b] = rgbAt(1, 2);
    const p = 2 * 4 + 1;
    assert.deepEqual([data[p], data[plane + p], data[2 * plane + p]], [r, g, b]);
  });

  it('a configured client layout wins over the shape guess', async () => {
    const png = await patternPng(4, 4);
    const t = await decode({ name: 'x', dtype: 'FP32', shape: [1, 4, 4, 3] }, strings(png), { layouts: { x: 'NHWC' } });
    assert.deepEqual(t.shape, [1, 4, 4, 3]);
  });

  it('images are resized to a fixed H×W (fill, aspect not kept)', async () => {
    const png = await patternPng(8, 2);
    const t = await decode({ name: 'x', dtype: 'FP32', shape: [1, 3, 5, 6] }, strings(png));
    assert.deepEqual(t.shape, [1, 3, 5, 6]);
    assert.equal((t.data as Float32Array).length, 3 * 5 * 6);
  });

  it('a batch of images becomes one tensor, images in order', async () => {
    const a = await sharp({ create: { width: 2, height: 2, channels: 3, background: { r: 10, g: 20, b: 30 } } }).png().toBuffer();
    const b = await sharp({ create: { width: 2, height: 2, channels: 3, background: { r: 40, g: 50, b: 60 } } }).png().toBuffer();
    const t = await decode({ name: 'x', dtype: 'UINT8', shape: [-1, 2, 2, 3] }, strings(a, b, a), { colorFormats: { x: 'RGB' } });
    assert.deepEqual(t.shape, [3, 2, 2, 3]);
    const data = t.data as Uint8Array;
    assert.deepEqual([...data.subarray(0, 3)], [10, 20, 30]);
    assert.deepEqual([...data.subarray(12, 15)], [40, 50, 60]);
    assert.deepEqual([...data.subarray(24, 27)], [10, 20, 30]);
  });

  it('dynamic H×W take the image\'s own size', async () => {
    const png = await patternPng(7, 5);
    const t = await decode({ name: 'x', dtype: 'FP32', shape: [-1, 3, -1, -1] }, strings(png));
    assert.deepEqual(t.shape, [1, 3, 5, 7]);
  });

  it('JPEG decodes too', async () => {
    const jpeg = await sharp({ create: { width: 16, height: 8, channels: 3, background: { r: 200, g: 100, b: 50 } } }).jpeg({ quality: 95 }).toBuffer();
    const t = await decode({ name: 'x', dtype: 'UINT8', shape: [1, 8, 16, 3] }, strings(jpeg));
    const [b, g, r] = [...(t.data as Uint8Array).subarray(0, 3)];
    assert.ok(Math.abs(r! - 200) <= 3 && Math.abs(g! - 100) <= 3 && Math.abs(b! - 50) <= 3, `got ${r},${g},${b}`);
  });

  it('FP16 inputs get half-precision bits', async () => {
    const png = await sharp({ create: { width: 1, height: 1, channels: 3, background: { r: 1, g: 2, b: 255 } } }).png().toBuffer();
    const t = await decode({ name: 'x', dtype: 'FP16', shape: [1, 1, 1, 3] }, strings(png), { colorFormats: { x: 'RGB' }, layouts: { x: 'NHWC' } });
    assert.deepEqual([...(t.data as Uint16Array)], [0x3c00, 0x4000, 0x5bf8]);
  });
});

describe('binary image inputs: errors', () => {
  const spec: TensorSpec = { name: 'x', dtype: 'FP32', shape: [1, 3, 4, 4] };

  it('corrupt bytes → INVALID_ARGUMENT "Image parsing failed"', async () => {
    await rejectsWith(decode(spec, strings(Buffer.from('definitely not an image'))), /^Image parsing failed - /);
  });

  it('a truncated JPEG → Image parsing failed', async () => {
    const jpeg = await sharp({ create: { width: 64, height: 64, channels: 3, background: '#808080' } }).jpeg().toBuffer();
    await rejectsWith(decode(spec, strings(jpeg.subarray(0, jpeg.length / 2))), /^Image parsing failed - /);
  });

  it('an image claiming more than 64 Mpx is refused before decoding (decompression bomb)', async () => {
    await rejectsWith(decode(spec, strings(hugePngHeader(20000, 20000))), /^Image parsing failed - .*pixel limit/i);
  });

  it('grey image for a 3-channel input → INVALID_NO_OF_CHANNELS', async () => {
    const grey = await patternPng(4, 4, 1);
    await rejectsWith(decode(spec, strings(grey)), 'Invalid number of channels in binary input - Expected: 3; Actual: 1; input name: x');
  });

  it('images of different sizes for a dynamic H×W → BINARY_IMAGES_RESOLUTION_MISMATCH', async () => {
    const a = await patternPng(4, 4);
    const b = await patternPng(5, 4);
    await rejectsWith(decode({ name: 'x', dtype: 'FP32', shape: [-1, 3, -1, -1] }, strings(a, b)), /^Binary input images for this pipeline are required to have the same resolution/);
  });

  it('a 2-D string tensor → INVALID_NO_OF_SHAPE_DIMENSIONS (binary inputs are [N])', async () => {
    const png = await patternPng(4, 4);
    await rejectsWith(() => decode(spec, { dtype: 'STRING', shape: [1, 1], data: [png] }),
      'Invalid number of shape dimensions - Expected number of binary input shape dimensions: 1; Actual: 2');
  });

  it('N images for a batch-1 input → INVALID_BATCH_SIZE', async () => {
    const png = await patternPng(4, 4);
    await rejectsWith(() => decode(spec, strings(png, png)), 'Invalid input batch size - Expected: 1; Actual: 2');
  });

  it('an empty element → String val is empty', async () => {
    await rejectsWith(() => decode(spec, strings(new Uint8Array(0))), 'String val is empty');
  });

  it('an input that is not 4-D → UNSUPPORTED_LAYOUT', async () => {
    const png = await patternPng(4, 4);
    await rejectsWith(decode({ name: 'x', dtype: 'FP32', shape: [1, 48] }, strings(png)), /^Received binary image input but resource not configured to accept NHWC layout/);
  });
});
