/**
 * Custom node "detection decoder": turns a detector's raw output into a list of boxes with scores,
 * ready for the image crop node. Three output styles are understood (`format`):
 *
 *   db            DB text detection (PaddleOCR det): a per-pixel text probability map.
 *                 Threshold it, find connected regions, keep regions whose mean probability in
 *                 their bounding box reaches `box_threshold`, grow each box by
 *                 area * unclip_ratio / perimeter on every side ("unclip").
 *                 input  probability FP32 [1, 1, H, W]
 *   ssd           SSD DetectionOutput rows [image_id, label, conf, x1, y1, x2, y2] (OpenVINO
 *                 face/person detectors); rows after the first image_id of -1 are ignored.
 *                 input  detection FP32 [1, 1, K, 7]
 *   boxes_scores  separate box and class-score tensors (UltraFace and similar):
 *                 input  boxes FP32 [1, K, 4] (x1, y1, x2, y2 as fractions), scores FP32 [1, K, classes]
 *
 * Boxes above `confidence_threshold` go through greedy non-maximum suppression at
 * `nms_threshold` IoU (0 turns it off; SSD models usually did it already).
 *
 * Outputs
 *   boxes   FP32 [N, 4]  x1, y1, x2, y2 as fractions of the image (of the probability map for db)
 *   scores  FP32 [N]
 * db boxes are in reading order (top to bottom, then left to right); the others by falling score.
 *
 * Params (strings, all optional)
 *   format                "db" | "ssd" | "boxes_scores"                      (db)
 *   max_detections        at most this many boxes                           (1000)
 *   db:  threshold 0.3, box_threshold 0.6, unclip_ratio 1.5, min_size 3 (pixels of the map)
 *   ssd: confidence_threshold 0.5, label (keep one class; -1 = all), nms_threshold 0
 *   boxes_scores: confidence_threshold 0.7, class_index 1, nms_threshold 0.3
 */
import type { CustomNodeParams, CustomNodeTensorInfo, CustomNodeTensors, Tensor } from '../src/pipeline/custom-node-api.js';
import { choiceParam, numberParam } from './params.js';

type Settings =
  | { readonly format: 'db'; readonly maxDetections: number; readonly threshold: number; readonly boxThreshold: number; readonly unclipRatio: number; readonly minSize: number }
  | { readonly format: 'ssd'; readonly maxDetections: number; readonly confidence: number; readonly label: number; readonly nms: number }
  | { readonly format: 'boxes_scores'; readonly maxDetections: number; readonly confidence: number; readonly classIndex: number; readonly nms: number };

export function initialize(params: CustomNodeParams): Settings {
  const format = choiceParam(params, 'format', ['db', 'ssd', 'boxes_scores'] as const, 'db');
  const maxDetections = numberParam(params, 'max_detections', 1000, { min: 0, integer: true });
  switch (format) {
    case 'db':
      return {
        format, maxDetections,
        threshold: numberParam(params, 'threshold', 0.3),
        boxThreshold: numberParam(params, 'box_threshold', 0.6),
        unclipRatio: numberParam(params, 'unclip_ratio', 1.5, { min: 0 }),
        minSize: numberParam(params, 'min_size', 3, { min: 0 }),
      };
    case 'ssd':
      return {
        format, maxDetections,
        confidence: numberParam(params, 'confidence_threshold', 0.5),
        label: numberParam(params, 'label', -1, { integer: true }),
        nms: numberParam(params, 'nms_threshold', 0, { min: 0 }),
      };
    case 'boxes_scores':
      return {
        format, maxDetections,
        confidence: numberParam(params, 'confidence_threshold', 0.7),
        classIndex: numberParam(params, 'class_index', 1, { min: 0, integer: true }),
        nms: numberParam(params, 'nms_threshold', 0.3, { min: 0 }),
      };
  }
}

export function getInputsInfo(_params: CustomNodeParams, s: Settings): CustomNodeTensorInfo[] {
  switch (s.format) {
    case 'db': return [{ name: 'probability', dtype: 'FP32', shape: [1, 1, -1, -1] }];
    case 'ssd': return [{ name: 'detection', dtype: 'FP32', shape: [1, 1, -1, 7] }];
    case 'boxes_scores': return [
      { name: 'boxes', dtype: 'FP32', shape: [1, -1, 4] },
      { name: 'scores', dtype: 'FP32', shape: [1, -1, -1] },
    ];
  }
}

export function getOutputsInfo(): CustomNodeTensorInfo[] {
  return [
    { name: 'boxes', dtype: 'FP32', shape: [-1, 4] },
    { name: 'scores', dtype: 'FP32', shape: [-1] },
  ];
}

interface Detection {
  readonly box: readonly [number, number, number, number];
  readonly score: number;
}

export function execute(inputs: CustomNodeTensors, _params: CustomNodeParams, s: Settings): Record<string, Tensor> {
  let found: Detection[];
  switch (s.format) {
    case 'db': found = decodeDb(floats(inputs, 'probability', 4), s); break;
    case 'ssd': found = decodeSsd(floats(inputs, 'detection', 4), s); break;
    case 'boxes_scores': found = decodeBoxesScores(floats(inputs, 'boxes', 3), floats(inputs, 'scores', 3), s); break;
  }
  found = found.slice(0, s.maxDetections);
  const boxes = new Float32Array(found.length * 4);
  const scores = new Float32Array(found.length);
  found.forEach((d, i) => {
    boxes.set(d.box, i * 4);
    scores[i] = d.score;
  });
  return {
    boxes: { dtype: 'FP32', shape: [found.length, 4], data: boxes },
    scores: { dtype: 'FP32', shape: [found.length], data: scores },
  };
}

// -------------------------------------------------------------------------------------------------

interface Floats {
  readonly data: Float32Array;
  readonly shape: readonly number[];
}

function floats(inputs: CustomNodeTensors, name: string, rank: number): Floats {
  const t = inputs[name];
  if (!t || t.dtype !== 'FP32' || !(t.data instanceof Float32Array)) throw new Error(`input ${name} must be an FP32 tensor`);
  if (t.shape.length !== rank) throw new Error(`input ${name} must have ${rank} dimensions; got [${t.shape.join(', ')}]`);
  return { data: t.data, shape: t.shape };
}

/** DB post-processing on an [1, 1, H, W] probability map. */
function decodeDb(map: Floats, s: Extract<Settings, { format: 'db' }>): Detection[] {
  const height = map.shape[2]!;
  const width = map.shape[3]!;
  const prob = map.data;
  const labels = new Int32Array(width * height);
  const queue = new Int32Array(width * height);
  const found: Detection[] = [];
  let next = 0;
  for (let start = 0; start < prob.length; start++) {
    if (labels[start] !== 0 || !(prob[start]! > s.threshold)) continue;
    // Flood fill (8-connected) one region, tracking its bounding box.
    next++;
    let head = 0;
    let tail = 0;
    queue[tail++] = start;
    labels[start] = next;
    let minX = width, minY = height, maxX = -1, maxY = -1;
    while (head < tail) {
      const p = queue[head++]!;
      const y = (p / width) | 0;
      const x = p - y * width;
      if (x < minX) minX = x;
      if (x > maxX) maxX = x;
      if (y < minY) minY = y;
      if (y > maxY) maxY = y;
      for (let dy = -1; dy <= 1; dy++) {
        const ny = y + dy;
        if (ny < 0 || ny >= height) continue;
        for (let dx = -1; dx <= 1; dx++) {
          const nx = x + dx;
          if (nx < 0 || nx >= width) continue;
          const q = ny * width + nx;
          if (labels[q] === 0 && prob[q]! > s.threshold) {
            labels[q] = next;
            queue[tail++] = q;
          }
        }
      }
    }
    const w = maxX - minX + 1;
    const h = maxY - minY + 1;
    if (Math.min(w, h) < s.minSize) continue;
    let sum = 0;
    for (let y = minY; y <= maxY; y++) for (let x = minX; x <= maxX; x++) sum += prob[y * width + x]!;
    const score = sum / (w * h);
    if (score < s.boxThreshold) continue;
    const grow = (w * h * s.unclipRatio) / (2 * (w + h));
    if (Math.min(w, h) + 2 * grow < s.minSize + 2) continue;
    found.push({
      box: [
        Math.max(0, minX - grow) / width,
        Math.max(0, minY - grow) / height,
        Math.min(width, maxX + 1 + grow) / width,
        Math.min(height, maxY + 1 + grow) / height,
      ],
      score,
    });
  }
  return readingOrder(found, 10 / height);
}

/** Top to bottom; boxes whose tops are within `tolerance` count as one line and go left to right. */
function readingOrder(list: Detection[], tolerance: number): Detection[] {
  const sorted = [...list].sort((a, b) => a.box[1] - b.box[1] || a.box[0] - b.box[0]);
  for (let i = 1; i < sorted.length; i++) {
    for (let j = i; j > 0; j--) {
      const a = sorted[j - 1]!;
      const b = sorted[j]!;
      if (Math.abs(b.box[1] - a.box[1]) < tolerance && b.box[0] < a.box[0]) {
        sorted[j - 1] = b;
        sorted[j] = a;
      } else break;
    }
  }
  return sorted;
}

function decodeSsd(t: Floats, s: Extract<Settings, { format: 'ssd' }>): Detection[] {
  if (t.shape[3] !== 7) throw new Error(`input detection must have 7 values per row; got [${t.shape.join(', ')}]`);
  const rows = t.shape[2]!;
  const d = t.data;
  const found: Detection[] = [];
  for (let i = 0; i < rows; i++) {
    const o = i * 7;
    if (d[o]! < 0) break;
    const score = d[o + 2]!;
    if (!(score > s.confidence) || (s.label >= 0 && d[o + 1] !== s.label)) continue;
    found.push({ box: [clamp01(d[o + 3]!), clamp01(d[o + 4]!), clamp01(d[o + 5]!), clamp01(d[o + 6]!)], score });
  }
  found.sort((a, b) => b.score - a.score);
  return s.nms > 0 ? nms(found, s.nms) : found;
}

function decodeBoxesScores(boxes: Floats, scores: Floats, s: Extract<Settings, { format: 'boxes_scores' }>): Detection[] {
  const count = boxes.shape[1]!;
  const classes = scores.shape[2]!;
  if (boxes.shape[2] !== 4) throw new Error(`input boxes must have 4 values per box; got [${boxes.shape.join(', ')}]`);
  if (scores.shape[1] !== count) throw new Error(`inputs boxes and scores disagree on the number of boxes: ${count} vs ${scores.shape[1]}`);
  if (s.classIndex >= classes) throw new Error(`param class_index ${s.classIndex} is out of range for ${classes} classes`);
  const found: Detection[] = [];
  for (let i = 0; i < count; i++) {
    const score = scores.data[i * classes + s.classIndex]!;
    if (!(score > s.confidence)) continue;
    const b = boxes.data;
    found.push({ box: [clamp01(b[i * 4]!), clamp01(b[i * 4 + 1]!), clamp01(b[i * 4 + 2]!), clamp01(b[i * 4 + 3]!)], score });
  }
  found.sort((a, b) => b.score - a.score);
  return s.nms > 0 ? nms(found, s.nms) : found;
}

/** Greedy non-maximum suppression over detections sorted by falling score. */
function nms(sorted: readonly Detection[], iouThreshold: number): Detection[] {
  const kept: Detection[] = [];
  for (const d of sorted) if (kept.every((k) => iou(k.box, d.box) <= iouThreshold)) kept.push(d);
  return kept;
}

function iou(a: readonly number[], b: readonly number[]): number {
  const ix = Math.max(0, Math.min(a[2]!, b[2]!) - Math.max(a[0]!, b[0]!));
  const iy = Math.max(0, Math.min(a[3]!, b[3]!) - Math.max(a[1]!, b[1]!));
  const inter = ix * iy;
  const union = (a[2]! - a[0]!) * (a[3]! - a[1]!) + (b[2]! - b[0]!) * (b[3]! - b[1]!) - inter;
  return union > 0 ? inter / union : 0;
}

function clamp01(v: number): number {
  return v < 0 ? 0 : v > 1 ? 1 : v;
}
