/**
 * The TensorFlow Serving messages used off the hot path (metadata, status, reload), by protobufjs
 * reflection over the project's own proto/ files. Predict does not come through here: it has the
 * hand-written codec in predict-codec.ts.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';

/** proto/ at the repository root (this file runs from dist/src/api/tfs/). */
export const protoDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../../proto');

/** Entry files: everything else is reached through their imports. */
export const serviceProtoFiles = [
  'tensorflow_serving/apis/prediction_service.proto',
  'tensorflow_serving/apis/model_service.proto',
] as const;

function loadRoot(): protobuf.Root {
  const root = new protobuf.Root();
  root.resolvePath = (_origin, target) => path.join(protoDir, target);
  // keepCase: the messages are built and read with their proto field names (model_spec, not modelSpec).
  root.loadSync([...serviceProtoFiles], { keepCase: true });
  root.resolveAll();
  return root;
}

const root = loadRoot();

export const messages = {
  GetModelMetadataRequest: root.lookupType('tensorflow.serving.GetModelMetadataRequest'),
  GetModelMetadataResponse: root.lookupType('tensorflow.serving.GetModelMetadataResponse'),
  SignatureDefMap: root.lookupType('tensorflow.serving.SignatureDefMap'),
  GetModelStatusRequest: root.lookupType('tensorflow.serving.GetModelStatusRequest'),
  GetModelStatusResponse: root.lookupType('tensorflow.serving.GetModelStatusResponse'),
  ReloadConfigRequest: root.lookupType('tensorflow.serving.ReloadConfigRequest'),
  ReloadConfigResponse: root.lookupType('tensorflow.serving.ReloadConfigResponse'),
} as const;

const dataType = root.lookupEnum('tensorflow.DataType');

/** TensorFlow's name for a DataType value (DT_BFLOAT16, DT_INVALID, ...), for error texts. */
export function dataTypeName(value: number): string {
  return dataType.valuesById[value] ?? `DataType(${value})`;
}

export const signatureDefMapTypeUrl = 'type.googleapis.com/tensorflow.serving.SignatureDefMap';

/** protobufjs gives int64 fields as Long (the `long` package is installed), number or string. */
export function int64ToNumber(v: unknown): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'string') return Number(v);
  if (v && typeof (v as { toNumber?: unknown }).toNumber === 'function') return (v as { toNumber(): number }).toNumber();
  return 0;
}
