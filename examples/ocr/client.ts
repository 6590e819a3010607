/**
 * Reads the text in a picture with the `ocr` pipeline over the TensorFlow Serving REST API and prints
 * one recognised line per output line, top to bottom.
 *
 *   node dist/examples/ocr/client.js [image = ../shared/images/ocr-text-lines.png] [url = http://localhost:8000] [--details]
 *
 * The picture goes as it is (PNG or JPEG bytes, base64 in the column format:
 * {"inputs": {"image": [{"b64": "..."}]}}); the server decodes it. With `--details` each line also
 * shows its score and where it was found (pixels).
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const args = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const details = process.argv.includes('--details');
const imagePath = args[0] ?? path.join(repoRoot, '../shared/images/ocr-text-lines.png');
const url = (args[1] ?? 'http://localhost:8000').replace(/\/$/, '');

const picture = await readFile(imagePath);
const res = await fetch(`${url}/v1/models/ocr:predict`, {
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify({ inputs: { image: [{ b64: picture.toString('base64') }] } }),
});
if (res.status === 204) {
  // The detector found nothing: OVMS answers an empty demultiplexer this way.
  console.error('no text found');
  process.exit(0);
}
const body = (await res.json()) as { error?: string; outputs?: { texts: string[][]; scores: number[][]; text_coordinates: number[][][] } };
if (!res.ok || !body.outputs) {
  console.error(`HTTP ${res.status}: ${body.error ?? JSON.stringify(body)}`);
  process.exit(1);
}
const { texts, scores, text_coordinates: boxes } = body.outputs;
texts.forEach(([text], i) => {
  if (!details) return console.log(text);
  const [x1, y1, x2, y2] = boxes[i]![0]!;
  console.log(`${text}\t(score ${scores[i]![0]!.toFixed(3)}, box ${x1},${y1} - ${x2},${y2})`);
});
