/**
 * JPEG/PNG (and whatever else libvips reads) bytes → raw 8-bit pixels, with sharp. Decoding runs
 * on libuv's thread pool, off the event loop. Hostile input is expected: a corrupt file, a
 * decompression bomb (a few KB that claim gigapixels) — both end in an ImageError, never a crash.
 */
import sharp from 'sharp';

/**
 * Largest image accepted, in pixels (width × height of the *encoded* image, checked from its
 * header before decoding): 64 Mpx, e.g. 8192×8192. sharp refuses larger ones without decoding.
 */
export const MAX_IMAGE_PIXELS = 64 * 1024 * 1024;

export class ImageError extends Error {}

export interface DecodedImage {
  /** Interleaved channels (HWC), sharp's order: RGB, RGBA, grey, grey+alpha. */
  readonly data: Buffer;
  readonly width: number;
  readonly height: number;
  readonly channels: number;
}

// The cache helps repeated operations on the same files; request images are all different.
sharp.cache(false);

/**
 * Decodes `bytes`; with `size`, resizes to exactly width×height without keeping the aspect ratio
 * (OVMS resizes with cv::resize the same way). Channels stay as the image has them.
 */
export async function decodeImage(bytes: Uint8Array, size?: { width: number; height: number }): Promise<DecodedImage> {
  try {
    let img = sharp(bytes, { limitInputPixels: MAX_IMAGE_PIXELS, failOn: 'error', sequentialRead: true });
    // sharp turns everything into sRGB on output; a grey image stays grey (1 channel, or 2 with
    // alpha), as OpenCV's IMREAD_UNCHANGED keeps it, so a channel mismatch is reported, not hidden.
    const meta = await img.metadata();
    if (meta.space === 'b-w' || meta.space === 'grey16') img = img.toColourspace('b-w');
    if (size) img = img.resize(size.width, size.height, { fit: 'fill' });
    const { data, info } = await img.raw().toBuffer({ resolveWithObject: true });
    return { data, width: info.width, height: info.height, channels: info.channels };
  } catch (err) {
    throw new ImageError(describe(err));
  }
}

/** sharp's messages name the problem well ("Input buffer contains unsupported image format", "exceeds pixel limit"). */
function describe(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  return text.split('\n')[0]!.slice(0, 200);
}
