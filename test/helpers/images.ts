/** Image preprocessing for the real models in ../shared/models (as MODELS.md describes each). */
import sharp, { type Sharp } from 'sharp';

/** NCHW float32 from an RGB(or BGR) image already resized to w×h: (pixel - mean[c]) / std[c] on a 0..scale range. */
async function toNchw(img: Sharp, w: number, h: number, opts: { bgr?: boolean; scale: number; mean: readonly number[]; std: readonly number[] }): Promise<Float32Array> {
  const { data } = await img.removeAlpha().raw().toBuffer({ resolveWithObject: true });
  const out = new Float32Array(3 * h * w);
  const plane = h * w;
  for (let i = 0; i < plane; i++) {
    for (let c = 0; c < 3; c++) {
      const src = opts.bgr ? 2 - c : c;
      out[c * plane + i] = (data[i * 3 + src]! / opts.scale - opts.mean[c]!) / opts.std[c]!;
    }
  }
  return out;
}

/** mobilenetv2-12-int8: shorter side 256, centre crop 224, RGB, /255, ImageNet mean/std, NCHW [1,3,224,224]. */
export async function imagenetInput(file: string): Promise<Float32Array> {
  const meta = await sharp(file).metadata();
  const scale = 256 / Math.min(meta.width!, meta.height!);
  const w = Math.round(meta.width! * scale);
  const h = Math.round(meta.height! * scale);
  const resized = await sharp(file).resize(w, h, { fit: 'fill' }).toBuffer();
  const img = sharp(resized).extract({ left: Math.floor((w - 224) / 2), top: Math.floor((h - 224) / 2), width: 224, height: 224 });
  return toNchw(img, 224, 224, { scale: 255, mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] });
}

/** ultraface-rfb-320: RGB 320×240, (x - 127) / 128, NCHW [1,3,240,320]. */
export async function ultrafaceInput(file: string): Promise<Float32Array> {
  return toNchw(sharp(file).resize(320, 240, { fit: 'fill' }), 320, 240, { scale: 1, mean: [127, 127, 127], std: [128, 128, 128] });
}

export function argmax(values: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i]! > values[best]!) best = i;
  return best;
}

/** Faces from UltraFace outputs: score > threshold, then greedy NMS at IoU 0.3. */
export function ultrafaceFaces(scores: ArrayLike<number>, boxes: ArrayLike<number>, threshold = 0.7): number[][] {
  const candidates: { score: number; box: number[] }[] = [];
  for (let i = 0; i < scores.length / 2; i++) {
    const s = scores[i * 2 + 1]!;
    if (s > threshold) candidates.push({ score: s, box: [boxes[i * 4]!, boxes[i * 4 + 1]!, boxes[i * 4 + 2]!, boxes[i * 4 + 3]!] });
  }
  candidates.sort((a, b) => b.score - a.score);
  const kept: number[][] = [];
  const iou = (a: number[], b: number[]) => {
    const ix = Math.max(0, Math.min(a[2]!, b[2]!) - Math.max(a[0]!, b[0]!));
    const iy = Math.max(0, Math.min(a[3]!, b[3]!) - Math.max(a[1]!, b[1]!));
    const inter = ix * iy;
    const area = (r: number[]) => (r[2]! - r[0]!) * (r[3]! - r[1]!);
    return inter / (area(a) + area(b) - inter);
  };
  for (const c of candidates) if (kept.every((k) => iou(k, c.box) < 0.3)) kept.push(c.box);
  return kept;
}
