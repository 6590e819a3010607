/**
 * Prints the OCR example's config.json with absolute paths (config.json paths may not contain "..").
 *
 *   node dist/examples/ocr/make-config.js [models dir = ../shared/models] > ocr-config.json
 *   node dist/src/cli/main.js --config_path ocr-config.json --port 9000 --rest_port 8000
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ocrConfig } from './ocr-pipeline.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const modelsDir = process.argv[2] ?? path.join(repoRoot, '../shared/models');
process.stdout.write(`${JSON.stringify(ocrConfig({ modelsDir, customNodesDir: path.join(repoRoot, 'dist/custom-nodes') }), null, 2)}\n`);
