/** Describes the machine a result came from (printed with every table). */
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { repoRoot } from './paths.js';

export interface MachineInfo {
  readonly cpuModel: string;
  readonly cores: number;
  readonly memoryGiB: number;
  readonly os: string;
  readonly node: string;
  readonly onnxruntimeNode: string;
  readonly grpcJs: string;
  readonly loadGenerators: Record<string, string>;
  readonly loadAverage: readonly number[];
}

function packageVersion(name: string): string {
  try {
    return (JSON.parse(readFileSync(path.join(repoRoot, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

function osName(): string {
  try {
    const m = /PRETTY_NAME="([^"]+)"/.exec(readFileSync('/etc/os-release', 'utf8'));
    if (m) return `${m[1]} (${os.release()})`;
  } catch {
    // fall through
  }
  return `${os.type()} ${os.release()}`;
}

export function machineInfo(loadGenerators: Record<string, string>): MachineInfo {
  return {
    cpuModel: os.cpus()[0]?.model.trim() ?? 'unknown',
    cores: os.availableParallelism(),
    memoryGiB: Math.round((os.totalmem() / 1024 ** 3) * 10) / 10,
    os: osName(),
    node: process.version,
    onnxruntimeNode: packageVersion('onnxruntime-node'),
    grpcJs: packageVersion('@grpc/grpc-js'),
    loadGenerators,
    loadAverage: os.loadavg().map((v) => Math.round(v * 100) / 100),
  };
}

export function describeMachine(m: MachineInfo): string {
  const gens = Object.entries(m.loadGenerators).map(([k, v]) => `${k} (${v})`).join(', ') || 'node core only';
  return `${m.cpuModel}, ${m.cores} cores, ${m.memoryGiB} GiB, ${m.os}; Node ${m.node}, onnxruntime-node ${m.onnxruntimeNode}, @grpc/grpc-js ${m.grpcJs}; load generators: ${gens}`;
}
