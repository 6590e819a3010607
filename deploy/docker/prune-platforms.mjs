#!/usr/bin/env node
// Image size: onnxruntime-node ships its native binaries for every OS and CPU (about 290 MB); a
// container needs only its own. Removes bin/napi-*/<os>/<arch> folders of other platforms under
// the node_modules folder given (default ./node_modules) and prints what it freed.
import { readdirSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';

const root = path.join(process.argv[2] ?? 'node_modules', 'onnxruntime-node', 'bin');
const list = (dir) => readdirSync(dir).filter((name) => statSync(path.join(dir, name)).isDirectory());
let removed = 0;
let kept = 0;
for (const napi of list(root)) {
  for (const os of list(path.join(root, napi))) {
    if (os !== process.platform) {
      removed += list(path.join(root, napi, os)).length;
      rmSync(path.join(root, napi, os), { recursive: true, force: true });
      continue;
    }
    for (const arch of list(path.join(root, napi, os))) {
      if (arch === process.arch) {
        kept++;
        continue;
      }
      rmSync(path.join(root, napi, os, arch), { recursive: true, force: true });
      removed++;
    }
  }
}
if (kept === 0) {
  process.stderr.write(`no onnxruntime-node binary for ${process.platform}/${process.arch} under ${root}\n`);
  process.exit(1);
}
process.stdout.write(`onnxruntime-node: kept ${process.platform}/${process.arch}, removed ${removed} other platform/CPU folder(s)\n`);
