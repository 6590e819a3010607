/** The help and version screens, laid out like OVMS's (cxxopts) output. */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { OPTIONS, type OptionDef, type OptionGroup } from './options.js';

const GROUP_TITLES: Readonly<Record<OptionGroup, string>> = {
  general: '',
  'multi model': ' multi model options:',
  'single model': ' single model options:',
};

function usageOf(o: OptionDef): string {
  const flag = o.short ? `  -${o.short}, --${o.name}` : `      --${o.name}`;
  return o.kind === 'flag' || o.kind === 'bool' ? flag : `${flag} ${o.name.toUpperCase()}`;
}

const DESCRIPTION_COLUMN = 34;
const LINE_WIDTH = 110;

/** Word-wraps `text` into lines of at most `width` characters. */
function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else {
      line = line ? `${line} ${word}` : word;
    }
  }
  if (line) lines.push(line);
  return lines;
}

export function helpText(): string {
  const lines = [
    'tsms - a model server compatible with OpenVINO Model Server (TensorFlow Serving API, ONNX models)',
    'Usage:',
    '  tsms [OPTION...]',
  ];
  const indent = ' '.repeat(DESCRIPTION_COLUMN);
  for (const group of ['general', 'multi model', 'single model'] as const) {
    lines.push('');
    if (GROUP_TITLES[group]) lines.push(GROUP_TITLES[group], '');
    for (const o of OPTIONS.filter((x) => x.group === group)) {
      const defaults = o.defaultText !== undefined ? ` (default: ${o.defaultText})` : '';
      const description = wrap(`${o.help}${defaults}`, LINE_WIDTH - DESCRIPTION_COLUMN);
      const usage = usageOf(o);
      // Long option names get their description on the next line, keeping one column for all texts.
      if (usage.length + 2 > DESCRIPTION_COLUMN) lines.push(usage);
      else lines.push(`${usage.padEnd(DESCRIPTION_COLUMN)}${description.shift() ?? ''}`);
      for (const rest of description) lines.push(`${indent}${rest}`);
    }
  }
  return `${lines.join('\n')}\n`;
}

/** `tsms <version>` and the inference backend's version (OVMS prints `OpenVINO backend <version>`). */
export function versionText(): string {
  return `tsms ${ownVersion()}\nonnxruntime-node backend ${backendVersion()}\n`;
}

function ownVersion(): string {
  // Walk up from this file (src/cli or dist/src/cli) to the project's package.json.
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    try {
      const pkg = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'tsms' && pkg.version) return pkg.version;
    } catch {
      // no package.json here; keep walking
    }
    const parent = path.dirname(dir);
    if (parent === dir) return 'unknown';
    dir = parent;
  }
}

function backendVersion(): string {
  // Read its package.json rather than importing it: loading the native binding is slow.
  try {
    const file = createRequire(import.meta.url).resolve('onnxruntime-node/package.json');
    return (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}
