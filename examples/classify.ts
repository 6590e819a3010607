/**
 * Image classification with the tsms client library: MobileNet v2 (ImageNet, ../shared/models)
 * on one or more images, top-5 classes with their names.
 *
 *   node dist/src/cli/main.js --model_name mobilenet --model_path ../shared/models/mobilenetv2-12-int8 --port 9000 --rest_port 8000 &
 *   node dist/examples/classify.js --labels ../shared/models/mobilenetv2-12-int8/synset.txt ../shared/images/zebra.jpeg
 *
 * Options: --address (default localhost:9000, or localhost:8000 with --transport rest),
 * --protocol tfs|kserve, --transport grpc|rest, --model (default mobilenet), --labels FILE, --top K.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { createClient, topK } from '../src/client/index.js';
import { loadImageTensor } from '../src/client/image.js';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    address: { type: 'string' }, protocol: { type: 'string', default: 'kserve' }, transport: { type: 'string', default: 'grpc' },
    model: { type: 'string', default: 'mobilenet' }, labels: { type: 'string' }, top: { type: 'string', default: '5' },
  },
});
if (positionals.length === 0) {
  process.stderr.write('usage: classify.js [--address host:port] [--labels synset.txt] IMAGE...\n');
  process.exit(64);
}
const transport = values.transport === 'rest' ? 'rest' : 'grpc';
const client = createClient({
  protocol: values.protocol === 'tfs' ? 'tfs' : 'kserve',
  transport,
  address: values.address ?? (transport === 'grpc' ? 'localhost:9000' : 'localhost:8000'),
});
// synset.txt: "n01440764 tench, Tinca tinca" per line; the line index is the class index.
const labels = values.labels ? readFileSync(values.labels, 'utf8').split('\n').map((l) => l.replace(/^n\d+\s+/, '').split(',')[0]!.trim()) : [];

const meta = await client.metadata(values.model);
const input = meta.inputs[0]!;
let failed = 0;
for (const file of positionals) {
  // ImageNet preprocessing: RGB, 224×224 centre crop, (x/255 - mean) / std per channel, NCHW.
  const image = await loadImageTensor(file, {
    width: 224, height: 224, fit: 'cover', layout: 'NCHW', order: 'RGB',
    mean: [123.675, 116.28, 103.53], scale: [58.395, 57.12, 57.375],
  });
  try {
    const started = performance.now();
    const result = await client.infer(values.model, { [input.name]: image });
    const logits = Object.values(result.outputs)[0]!.data as Float32Array;
    const max = Math.max(...logits);
    const exp = Array.from(logits, (v) => Math.exp(v - max));
    const sum = exp.reduce((a, b) => a + b, 0);
    const ms = (performance.now() - started).toFixed(1);
    const best = topK(exp.map((e) => e / sum), Number(values.top));
    process.stdout.write(`${path.basename(file)} (${ms} ms): ${best.map((b) => `${labels[b.index] ?? `class ${b.index}`} ${(b.value * 100).toFixed(1)}%`).join(', ')}\n`);
  } catch (err) {
    failed++;
    process.stderr.write(`${path.basename(file)}: ${(err as Error).message}\n`);
  }
}
client.close();
process.exitCode = failed > 0 ? 1 : 0;
