/**
 * Server and model metadata as both KServe front ends (gRPC and REST) answer them.
 *
 * Choices (README "KServe v2"):
 * - Server name "tsms" with tsms's own version (OVMS says "OpenVINO Model Server" and its build
 *   version). KServe/Triton clients only display these fields; a client that needs to tell the
 *   servers apart should be able to.
 * - extensions: "binary_tensor_data" (REST binary extension) and "model_repository".
 * - Model platform "onnxruntime_onnx" (Triton's name for what runs the model); OVMS says "OpenVINO".
 * - versions: the model's AVAILABLE versions, ascending.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ModelState, type Servable, type ServableRegistry } from '../../core/servable.js';
import type { TensorSpec } from '../../core/tensor.js';
import { protoDir } from '../tfs/grpc-protos.js';
import { kserveDatatype } from './tensors.js';

export const SERVER_NAME = 'tsms';
export const SERVER_EXTENSIONS: readonly string[] = ['binary_tensor_data', 'model_repository'];
export const MODEL_PLATFORM = 'onnxruntime_onnx';

let version: string | undefined;

/** tsms's version from package.json (at the repository root, beside proto/). */
export function serverVersion(): string {
  if (version === undefined) {
    try {
      version = (JSON.parse(readFileSync(path.join(protoDir, '..', 'package.json'), 'utf8')) as { version?: string }).version ?? 'unknown';
    } catch {
      version = 'unknown';
    }
  }
  return version;
}

export interface ServerMetadata {
  readonly name: string;
  readonly version: string;
  readonly extensions: readonly string[];
}

export function serverMetadata(): ServerMetadata {
  return { name: SERVER_NAME, version: serverVersion(), extensions: SERVER_EXTENSIONS };
}

export interface TensorMetadata {
  readonly name: string;
  readonly datatype: string;
  readonly shape: readonly number[];
}

export interface ModelMetadata {
  readonly name: string;
  readonly versions: readonly string[];
  readonly platform: string;
  readonly inputs: readonly TensorMetadata[];
  readonly outputs: readonly TensorMetadata[];
}

export function modelMetadata(registry: ServableRegistry, servable: Servable): ModelMetadata {
  let versions: string[];
  try {
    versions = registry.getStatus(servable.name).filter((s) => s.state === ModelState.AVAILABLE).map((s) => String(s.version));
  } catch {
    versions = [String(servable.version)];
  }
  return {
    name: servable.name,
    versions,
    platform: MODEL_PLATFORM,
    inputs: servable.inputs.map(tensorMetadata),
    outputs: servable.outputs.map(tensorMetadata),
  };
}

function tensorMetadata(spec: TensorSpec): TensorMetadata {
  return { name: spec.name, datatype: kserveDatatype(spec.dtype), shape: spec.shape.map((d) => (d < 0 ? -1 : d)) };
}
