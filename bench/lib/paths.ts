/** Where things are, from this file's compiled location (dist/bench/lib/paths.js). */
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
export const repoRoot = path.resolve(here, '../../..');
export const distBench = path.resolve(here, '..');
export const serverMain = path.join(repoRoot, 'dist/src/cli/main.js');
export const resultsDir = path.join(repoRoot, 'bench/results');
export const protoDir = path.join(repoRoot, 'proto');
export const sharedModels = path.resolve(repoRoot, '../shared/models');

/** A compiled bench script (e.g. 'refs/bare-grpc.js'). */
export function benchScript(rel: string): string {
  return path.join(distBench, rel);
}
