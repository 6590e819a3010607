/**
 * OpenVINO DetectionOutput (opset1/opset8) on onnxruntime's outputs, in TypeScript. Follows the
 * operation's specification: per class, scores above confidence_threshold, the top_k best, greedy
 * NMS at nms_threshold; then the keep_top_k best over all classes of an image. Rows are
 * [image, label, score, xmin, ymin, xmax, ymax], grouped by label in ascending order and by
 * descending score inside a label; after the last row comes one whose image id is -1, then zeros.
 */
export interface DetectionOutputAttrs {
  readonly numClasses?: number;
  readonly backgroundLabelId: number;
  readonly topK: number;
  readonly keepTopK: number;
  readonly centerSize: boolean;
  readonly shareLocation: boolean;
  readonly nmsThreshold: number;
  readonly confidenceThreshold: number;
  readonly clipBeforeNms: boolean;
  readonly clipAfterNms: boolean;
  readonly decreaseLabelId: boolean;
  readonly normalized: boolean;
  readonly inputHeight: number;
  readonly inputWidth: number;
  readonly objectnessScore: number;
  readonly varianceEncodedInTarget: boolean;
}

const bool = (v: string | undefined, d: boolean): boolean => (v === undefined ? d : v.trim().toLowerCase() === 'true' || v.trim() === '1');
const num = (v: string | undefined, d: number): number => (v === undefined || v.trim() === '' ? d : Number(v.split(',')[0]));

/** Reads the IR attributes; thresholds are float32, as OpenVINO compares them. */
export function detectionOutputAttrs(data: Readonly<Record<string, string>>): DetectionOutputAttrs {
  return {
    numClasses: data.num_classes !== undefined ? Number(data.num_classes) : undefined,
    backgroundLabelId: num(data.background_label_id, 0),
    topK: num(data.top_k, -1),
    keepTopK: num(data.keep_top_k, -1),
    centerSize: (data.code_type ?? 'caffe.PriorBoxParameter.CORNER') === 'caffe.PriorBoxParameter.CENTER_SIZE',
    shareLocation: bool(data.share_location, true),
    nmsThreshold: Math.fround(num(data.nms_threshold, 0)),
    confidenceThreshold: Math.fround(num(data.confidence_threshold, 0)),
    clipBeforeNms: bool(data.clip_before_nms, false),
    clipAfterNms: bool(data.clip_after_nms, false),
    decreaseLabelId: bool(data.decrease_label_id, false),
    normalized: bool(data.normalized, false),
    inputHeight: num(data.input_height, 1),
    inputWidth: num(data.input_width, 1),
    objectnessScore: Math.fround(num(data.objectness_score, 0)),
    varianceEncodedInTarget: bool(data.variance_encoded_in_target, false),
  };
}

export interface DetectionInputs {
  readonly location: Float32Array;
  readonly confidence: Float32Array;
  readonly priors: Float32Array;
  /** [batch, 1 or 2, priors · prior size]. */
  readonly priorsShape: readonly number[];
  readonly batch: number;
  readonly armConfidence?: Float32Array;
  readonly armLocation?: Float32Array;
}

/** Rows in the output for a batch (the third dimension of [1, 1, rows, 7]). */
export function detectionRows(attrs: DetectionOutputAttrs, batch: number, numPriors: number, numClasses: number): number {
  if (attrs.keepTopK > 0) return batch * attrs.keepTopK;
  if (attrs.topK > 0) return batch * attrs.topK * numClasses;
  return batch * numPriors * numClasses;
}

type Box = [number, number, number, number];

export function detectionOutput(attrs: DetectionOutputAttrs, input: DetectionInputs): { data: Float32Array; shape: number[] } {
  const priorSize = attrs.normalized ? 4 : 5;
  const priorOffset = attrs.normalized ? 0 : 1;
  const numImages = input.batch;
  const numPriors = Math.floor((input.priorsShape[2] ?? 0) / priorSize);
  const priorsBatch = input.priorsShape[0] ?? 1;
  if (numImages <= 0 || numPriors <= 0) throw new RangeError('DetectionOutput: empty batch or no priors');
  const numClasses = attrs.numClasses ?? input.confidence.length / (numImages * numPriors);
  if (!Number.isInteger(numClasses) || numClasses <= 0) {
    throw new RangeError(`DetectionOutput: ${input.confidence.length} confidences do not fit ${numImages} image(s) × ${numPriors} priors`);
  }
  const numLocClasses = attrs.shareLocation ? 1 : numClasses;
  const locPerImage = numPriors * numLocClasses * 4;
  if (input.location.length !== numImages * locPerImage) {
    throw new RangeError(`DetectionOutput: ${input.location.length} box deltas, expected ${numImages * locPerImage}`);
  }
  const priorsPerBatch = attrs.varianceEncodedInTarget ? numPriors * priorSize : 2 * numPriors * priorSize;
  if (input.priors.length < priorsBatch * priorsPerBatch) throw new RangeError('DetectionOutput: the priors tensor is too small');

  const rows = detectionRows(attrs, numImages, numPriors, numClasses);
  const out = new Float32Array(rows * 7);
  let count = 0;

  for (let img = 0; img < numImages; img++) {
    const scoreOf = confidenceReader(attrs, input, img, numPriors, numClasses);
    const boxes = new BoxDecoder(attrs, input, img, numPriors, numLocClasses, priorsBatch, priorsPerBatch, priorSize, priorOffset);
    let picked: Map<number, number[]>;
    if (!attrs.decreaseLabelId) {
      picked = new Map();
      for (let c = 0; c < numClasses; c++) {
        if (c === attrs.backgroundLabelId) continue;
        const locLabel = attrs.shareLocation ? 0 : c;
        const candidates = topCandidates(numPriors, (p) => scoreOf(p, c), attrs.confidenceThreshold, attrs.topK, false);
        picked.set(c, nms(candidates, (p) => boxes.get(locLabel, p), attrs.nmsThreshold));
      }
    } else {
      picked = mxnetNms(attrs, numPriors, numClasses, scoreOf, boxes);
    }
    let total = 0;
    for (const list of picked.values()) total += list.length;
    if (attrs.keepTopK > -1 && total > attrs.keepTopK) {
      const all: { score: number; label: number; prior: number }[] = [];
      for (const [label, list] of picked) for (const prior of list) all.push({ score: scoreOf(prior, label), label, prior });
      all.sort((a, b) => b.score - a.score || a.prior - b.prior);
      picked = new Map();
      for (const d of all.slice(0, attrs.keepTopK)) {
        const list = picked.get(d.label) ?? [];
        list.push(d.prior);
        picked.set(d.label, list);
      }
    }
    for (const label of [...picked.keys()].sort((a, b) => a - b)) {
      const locLabel = attrs.shareLocation ? 0 : label;
      for (const prior of picked.get(label)!) {
        if (count >= rows) break;
        let [x1, y1, x2, y2] = boxes.get(locLabel, prior);
        if (attrs.clipAfterNms) [x1, y1, x2, y2] = [clamp01(x1), clamp01(y1), clamp01(x2), clamp01(y2)];
        out.set([img, attrs.decreaseLabelId ? label - 1 : label, scoreOf(prior, label), x1, y1, x2, y2], count * 7);
        count++;
      }
    }
  }
  if (count < rows) out[count * 7] = -1;
  return { data: out, shape: [1, 1, rows, 7] };
}

const clamp01 = (v: number): number => Math.max(0, Math.min(1, v));

/** Score of (prior, class) for one image; with ARM inputs, priors the objectness filter drops score as background. */
function confidenceReader(attrs: DetectionOutputAttrs, input: DetectionInputs, img: number, numPriors: number, numClasses: number): (p: number, c: number) => number {
  const base = img * numPriors * numClasses;
  const conf = input.confidence;
  const arm = input.armConfidence;
  if (!arm) return (p, c) => conf[base + p * numClasses + c]!;
  const armBase = img * numPriors * 2;
  return (p, c) => (arm[armBase + p * 2 + 1]! < attrs.objectnessScore
    ? (c === attrs.backgroundLabelId ? 1 : 0)
    : conf[base + p * numClasses + c]!);
}

/** Priors whose score passes the threshold, best first (ties: lower prior index first), at most topK. */
function topCandidates(numPriors: number, score: (p: number) => number, threshold: number, topK: number, inclusive: boolean): { prior: number; score: number }[] {
  const list: { prior: number; score: number }[] = [];
  for (let p = 0; p < numPriors; p++) {
    const s = score(p);
    if (inclusive ? s >= threshold : s > threshold) list.push({ prior: p, score: s });
  }
  list.sort((a, b) => b.score - a.score || a.prior - b.prior);
  if (topK > -1 && list.length > topK) list.length = topK;
  return list;
}

function nms(candidates: readonly { prior: number }[], boxOf: (p: number) => Box, threshold: number): number[] {
  const kept: number[] = [];
  for (const { prior } of candidates) {
    const box = boxOf(prior);
    if (kept.every((k) => jaccard(box, boxOf(k)) <= threshold)) kept.push(prior);
  }
  return kept;
}

/** MXNet style (decrease_label_id): each prior competes once, with its best non-background class. */
function mxnetNms(attrs: DetectionOutputAttrs, numPriors: number, numClasses: number, scoreOf: (p: number, c: number) => number, boxes: BoxDecoder): Map<number, number[]> {
  const best: { prior: number; score: number; label: number }[] = [];
  for (let p = 0; p < numPriors; p++) {
    let conf = -1;
    let label = 0;
    for (let c = 1; c < numClasses; c++) {
      if (attrs.backgroundLabelId > -1 && c === attrs.backgroundLabelId) continue;
      const s = scoreOf(p, c);
      if (s > conf) {
        conf = s;
        label = c;
      }
    }
    if (label > 0 && conf >= attrs.confidenceThreshold) best.push({ prior: p, score: conf, label });
  }
  best.sort((a, b) => b.score - a.score || a.prior - b.prior);
  if (attrs.topK !== -1 && best.length > attrs.topK) best.length = attrs.topK;
  const picked = new Map<number, number[]>();
  for (const d of best) {
    const kept = picked.get(d.label) ?? [];
    const locLabel = attrs.shareLocation ? 0 : d.label;
    const box = boxes.get(locLabel, d.prior);
    if (kept.every((k) => jaccard(box, boxes.get(locLabel, k)) <= attrs.nmsThreshold)) kept.push(d.prior);
    picked.set(d.label, kept);
  }
  return picked;
}

function area(b: Box): number {
  return b[2] < b[0] || b[3] < b[1] ? 0 : (b[2] - b[0]) * (b[3] - b[1]);
}

function jaccard(a: Box, b: Box): number {
  if (b[0] > a[2] || b[2] < a[0] || b[1] > a[3] || b[3] < a[1]) return 0;
  const w = Math.min(a[2], b[2]) - Math.max(a[0], b[0]);
  const h = Math.min(a[3], b[3]) - Math.max(a[1], b[1]);
  if (w <= 0 || h <= 0) return 0;
  const inter = w * h;
  return inter / (area(a) + area(b) - inter);
}

/** Decodes (location class, prior) boxes on demand and remembers them: NMS asks for the same boxes again and again. */
class BoxDecoder {
  readonly #cache = new Map<number, Box>();

  constructor(
    private readonly attrs: DetectionOutputAttrs,
    private readonly input: DetectionInputs,
    private readonly img: number,
    private readonly numPriors: number,
    private readonly numLocClasses: number,
    private readonly priorsBatch: number,
    private readonly priorsPerBatch: number,
    private readonly priorSize: number,
    private readonly priorOffset: number,
  ) {}

  get(locLabel: number, prior: number): Box {
    const key = locLabel * this.numPriors + prior;
    let box = this.#cache.get(key);
    if (!box) {
      box = this.#decode(locLabel, prior);
      this.#cache.set(key, box);
    }
    return box;
  }

  #decode(locLabel: number, prior: number): Box {
    const { attrs, input, img } = this;
    const batchIndex = this.priorsBatch === 1 ? 0 : Math.min(img, this.priorsBatch - 1);
    const pBase = batchIndex * this.priorsPerBatch;
    const pStart = pBase + prior * this.priorSize + this.priorOffset;
    let priorBox: Box = [input.priors[pStart]!, input.priors[pStart + 1]!, input.priors[pStart + 2]!, input.priors[pStart + 3]!];
    const variance: Box = attrs.varianceEncodedInTarget
      ? [1, 1, 1, 1]
      : [0, 1, 2, 3].map((j) => input.priors[pBase + this.numPriors * this.priorSize + prior * 4 + j]!) as Box;
    const locAt = (data: Float32Array): Box => {
      const at = img * this.numPriors * this.numLocClasses * 4 + prior * this.numLocClasses * 4 + locLabel * 4;
      return [data[at]!, data[at + 1]!, data[at + 2]!, data[at + 3]!];
    };
    if (input.armLocation) priorBox = this.#apply(priorBox, variance, locAt(input.armLocation));
    return this.#apply(priorBox, variance, locAt(input.location));
  }

  #apply(prior: Box, variance: Box, delta: Box): Box {
    const { attrs } = this;
    let [px1, py1, px2, py2] = prior;
    if (!attrs.normalized) {
      px1 /= attrs.inputWidth;
      py1 /= attrs.inputHeight;
      px2 /= attrs.inputWidth;
      py2 /= attrs.inputHeight;
    }
    let box: Box;
    if (!attrs.centerSize) {
      box = [px1 + variance[0] * delta[0], py1 + variance[1] * delta[1], px2 + variance[2] * delta[2], py2 + variance[3] * delta[3]];
    } else {
      const pw = px2 - px1;
      const ph = py2 - py1;
      const cx = variance[0] * delta[0] * pw + (px1 + px2) / 2;
      const cy = variance[1] * delta[1] * ph + (py1 + py2) / 2;
      const w = Math.exp(variance[2] * delta[2]) * pw;
      const h = Math.exp(variance[3] * delta[3]) * ph;
      box = [cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2];
    }
    if (attrs.clipBeforeNms) box = box.map(clamp01) as Box;
    return box;
  }
}
