/**
 * Face detection client, after OVMS's demos/face_detection/python/face_detection.py: sends each
 * image of a folder to the server, draws the faces it finds and writes one PNG per image.
 *
 *   node dist/examples/face-detection.js --input_images_dir ../shared/images --output_dir results \
 *     [--grpc_address localhost:9000 | --rest_url http://localhost:8000] [--model_name face-detection]
 *     [--model_type retail|ultraface] [--tensor] [--threshold 0.5]
 *
 * By default the JPEG/PNG bytes themselves are sent (TFS binary input: gRPC string_val or REST
 * {"b64": ...}); the server decodes, resizes and lays them out for the model. With --tensor (gRPC
 * only) the client does that itself and sends an NCHW float tensor, as face_detection.py does.
 *
 * Models (../shared/models): face-detection-retail-0004-onnx (input "data" [1,3,300,300], BGR 0–255,
 * output "detection_out" [1,1,200,7]) and ultraface-rfb-320 (input "input" [1,3,240,320], RGB,
 * (x-127)/128, outputs "scores" [1,4420,2] and "boxes" [1,4420,4]). See examples/README.md for the
 * server command lines.
 */
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import sharp from 'sharp';

type Box = { x1: number; y1: number; x2: number; y2: number; score: number };
type ModelType = 'retail' | 'ultraface';

const { values: args } = parseArgs({
  options: {
    input_images_dir: { type: 'string', default: '../shared/images' },
    output_dir: { type: 'string', default: 'results' },
    grpc_address: { type: 'string' },
    rest_url: { type: 'string' },
    model_name: { type: 'string', default: 'face-detection' },
    model_type: { type: 'string' },
    tensor: { type: 'boolean', default: false },
    threshold: { type: 'string' },
    // As OVMS's face_detection.py: the size the client resizes to (a `--shape auto` model reshapes to it).
    width: { type: 'string' },
    height: { type: 'string' },
    help: { type: 'boolean', default: false },
  },
});

if (args.help) {
  console.log(readFileSync(fileURLToPath(import.meta.url), 'utf8').split('*/')[0]);
  process.exit(0);
}

const modelType: ModelType = (args.model_type as ModelType | undefined) ?? (args.model_name!.includes('ultraface') ? 'ultraface' : 'retail');
const threshold = Number(args.threshold ?? (modelType === 'ultraface' ? 0.7 : 0.5));
const inputName = modelType === 'ultraface' ? 'input' : 'data';
const modelSize = modelType === 'ultraface' ? { width: 320, height: 240 } : { width: 300, height: 300 };
const resizeTo = args.width && args.height ? { width: Number(args.width), height: Number(args.height) } : undefined;
const size = resizeTo ?? modelSize;

/** With --width/--height the image is resized in the client first (JPEG re-encoded at quality 95). */
async function sized(image: Buffer): Promise<Buffer> {
  return resizeTo ? sharp(image).resize(resizeTo.width, resizeTo.height, { fit: 'fill' }).jpeg({ quality: 95 }).toBuffer() : image;
}

// ---- transport --------------------------------------------------------------------------------

type Outputs = Map<string, { shape: number[]; data: Float32Array }>;

function grpcClient(address: string): (input: object) => Promise<Outputs> {
  const protoDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../proto');
  const definition = protoLoader.loadSync(['tensorflow_serving/apis/prediction_service.proto'], {
    includeDirs: [protoDir], keepCase: true, longs: Number, enums: Number, defaults: true,
  });
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const tfs = (grpc.loadPackageDefinition(definition) as any).tensorflow.serving;
  const client = new tfs.PredictionService(address, grpc.credentials.createInsecure(), { 'grpc.max_receive_message_length': -1 });
  return (input) => new Promise((resolve, reject) => {
    client.Predict({ model_spec: { name: args.model_name }, inputs: { [inputName]: input } }, { deadline: Date.now() + 30_000 },
      // eslint-disable-next-line @typescript-eslint/no-explicit-any
      (err: Error | null, res: any) => {
        if (err) return reject(err);
        const out: Outputs = new Map();
        for (const [name, t] of Object.entries<{ tensor_shape: { dim: { size: number }[] }; tensor_content: Buffer }>(res.outputs)) {
          const bytes = new Uint8Array(t.tensor_content); // copied: aligned for Float32Array
          out.set(name, { shape: t.tensor_shape.dim.map((d) => Number(d.size)), data: new Float32Array(bytes.buffer, 0, bytes.byteLength / 4) });
        }
        resolve(out);
      });
  });
}

async function restPredict(url: string, image: Buffer): Promise<Outputs> {
  const res = await fetch(`${url}/v1/models/${args.model_name}:predict`, {
    method: 'POST',
    body: JSON.stringify({ instances: [{ [inputName]: { b64: image.toString('base64') } }] }),
  });
  const body = await res.json() as { predictions?: unknown[]; error?: string };
  if (!res.ok || !body.predictions) throw new Error(`HTTP ${res.status}: ${body.error ?? 'no predictions'}`);
  // One output: the instance is its nested array; several: an object of them.
  const first = body.predictions[0];
  const named = Array.isArray(first) ? { detection_out: first } : first as Record<string, unknown>;
  const out: Outputs = new Map();
  for (const [name, nested] of Object.entries(named)) {
    const flat = (nested as unknown[]).flat(Infinity) as number[];
    out.set(name, { shape: [], data: Float32Array.from(flat) });
  }
  return out;
}

// ---- pre- and post-processing -----------------------------------------------------------------

/** What face_detection.py sends: resized, NCHW float32; BGR 0–255 for retail, RGB (x-127)/128 for UltraFace. */
async function toTensor(image: Buffer): Promise<object> {
  const { data } = await sharp(image).removeAlpha().resize(size.width, size.height, { fit: 'fill' }).raw().toBuffer({ resolveWithObject: true });
  const plane = size.width * size.height;
  const out = new Float32Array(3 * plane);
  for (let p = 0; p < plane; p++) {
    for (let c = 0; c < 3; c++) {
      const v = data[p * 3 + (modelType === 'retail' ? 2 - c : c)]!;
      out[c * plane + p] = modelType === 'retail' ? v : (v - 127) / 128;
    }
  }
  return { dtype: 1, tensor_shape: { dim: [1, 3, size.height, size.width].map((s) => ({ size: s })) }, tensor_content: Buffer.from(out.buffer) };
}

/** detection_out rows: [image_id, label, conf, x_min, y_min, x_max, y_max], ended by image_id -1. */
function retailBoxes(out: Outputs): Box[] {
  const rows = out.get('detection_out')!.data;
  const boxes: Box[] = [];
  for (let r = 0; r * 7 < rows.length; r++) {
    const row = rows.subarray(r * 7, r * 7 + 7);
    if (row[0] === -1) break;
    if (row[2]! > threshold) boxes.push({ score: row[2]!, x1: row[3]!, y1: row[4]!, x2: row[5]!, y2: row[6]! });
  }
  return boxes;
}

/** UltraFace: face probability above the threshold, then greedy NMS at IoU 0.3. */
function ultrafaceBoxes(out: Outputs): Box[] {
  const scores = out.get('scores')!.data;
  const coords = out.get('boxes')!.data;
  const candidates: Box[] = [];
  for (let i = 0; i * 2 < scores.length; i++) {
    const s = scores[i * 2 + 1]!;
    if (s > threshold) candidates.push({ score: s, x1: coords[i * 4]!, y1: coords[i * 4 + 1]!, x2: coords[i * 4 + 2]!, y2: coords[i * 4 + 3]! });
  }
  candidates.sort((a, b) => b.score - a.score);
  const area = (b: Box) => Math.max(0, b.x2 - b.x1) * Math.max(0, b.y2 - b.y1);
  const iou = (a: Box, b: Box) => {
    const inter = Math.max(0, Math.min(a.x2, b.x2) - Math.max(a.x1, b.x1)) * Math.max(0, Math.min(a.y2, b.y2) - Math.max(a.y1, b.y1));
    return inter / (area(a) + area(b) - inter);
  };
  const kept: Box[] = [];
  for (const c of candidates) if (kept.every((k) => iou(k, c) < 0.3)) kept.push(c);
  return kept;
}

/** The image with one rectangle per face (coordinates are 0..1 of the image), as PNG. */
async function draw(image: Buffer, boxes: readonly Box[]): Promise<Buffer> {
  const { width = 1, height = 1 } = await sharp(image).metadata();
  const stroke = Math.max(2, Math.round(Math.min(width, height) / 200));
  const rects = boxes.map((b) => {
    const x = Math.round(b.x1 * width);
    const y = Math.round(b.y1 * height);
    const w = Math.round((b.x2 - b.x1) * width);
    const h = Math.round((b.y2 - b.y1) * height);
    return `<rect x="${x}" y="${y}" width="${w}" height="${h}" fill="none" stroke="#00ff00" stroke-width="${stroke}"/>`
      + `<text x="${x}" y="${Math.max(12, y - 4)}" font-size="${6 * stroke}" fill="#00ff00" font-family="sans-serif">${b.score.toFixed(2)}</text>`;
  });
  const svg = Buffer.from(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">${rects.join('')}</svg>`);
  return sharp(image).composite([{ input: svg, top: 0, left: 0 }]).png().toBuffer();
}

// ---- main -------------------------------------------------------------------------------------

const files = readdirSync(args.input_images_dir!).filter((f) => /\.(jpe?g|png)$/i.test(f)).sort();
if (files.length === 0) {
  console.error(`no .jpg/.jpeg/.png files in ${args.input_images_dir}`);
  process.exit(1);
}
if (args.tensor && args.rest_url) {
  console.error('--tensor sends float tensors over gRPC only; drop --rest_url or --tensor');
  process.exit(64);
}
const predictGrpc = args.rest_url ? undefined : grpcClient(args.grpc_address ?? 'localhost:9000');
mkdirSync(args.output_dir!, { recursive: true });

let failed = 0;
for (const file of files) {
  const image = readFileSync(path.join(args.input_images_dir!, file));
  const started = performance.now();
  try {
    let outputs: Outputs;
    if (args.rest_url) outputs = await restPredict(args.rest_url, await sized(image));
    else outputs = await predictGrpc!(args.tensor ? await toTensor(image) : { dtype: 7, tensor_shape: { dim: [{ size: 1 }] }, string_val: [await sized(image)] });
    const ms = performance.now() - started;
    const boxes = modelType === 'ultraface' ? ultrafaceBoxes(outputs) : retailBoxes(outputs);
    const target = path.join(args.output_dir!, `${path.parse(file).name}.png`);
    await sharp(await draw(image, boxes)).toFile(target);
    console.log(`${file}: ${boxes.length} face(s) in ${ms.toFixed(1)} ms → ${target}`);
  } catch (err) {
    failed++;
    console.error(`${file}: ${(err as Error).message}`);
  }
}
process.exit(failed > 0 ? 1 : 0);
