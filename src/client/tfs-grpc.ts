/**
 * TensorFlow Serving gRPC client: PredictionService (Predict, GetModelMetadata) and ModelService
 * (GetModelStatus, HandleReloadConfigRequest). Tensors travel in `tensor_content`; answers in
 * typed value fields (`float_val`, …) are read too.
 */
import * as grpc from '@grpc/grpc-js';
import path from 'node:path';
import protobuf from 'protobufjs';
import { type DType, dtypeInfo, fromTfName } from '../core/dtype.js';
import { isStringData, type Tensor, type TensorSpec, viewBytes } from '../core/tensor.js';
import { ClientError } from './errors.js';
import { bufferOf, channelOptions, credentialsFor, loadPackage, metadataFor, protoDir, type Stub, unary as unaryCall } from './grpc-common.js';
import { inputEntries } from './inputs.js';
import { tensor } from './tensors.js';
import type { CallOptions, ClientOptions, InferInputs, InferOptions, InferResult, ModelMetadata, ModelVersionStatus, ServingClient } from './types.js';

const FILES = ['tensorflow_serving/apis/prediction_service.proto', 'tensorflow_serving/apis/model_service.proto'];

let pkg: any;
let signatureDefMap: protobuf.Type | undefined;

/** GetModelMetadata packs a SignatureDefMap into an Any: decoded with protobufjs over the same files. */
function signatureType(): protobuf.Type {
  if (!signatureDefMap) {
    const root = new protobuf.Root();
    root.resolvePath = (_o, target) => path.join(protoDir, target);
    root.loadSync(FILES, { keepCase: true });
    root.resolveAll();
    signatureDefMap = root.lookupType('tensorflow.serving.SignatureDefMap');
  }
  return signatureDefMap;
}

export class TfsGrpcClient implements ServingClient {
  readonly protocol = 'tfs';
  readonly transport = 'grpc';
  private readonly prediction: Stub;
  private readonly model: Stub;
  private readonly timeoutMs: number;
  private readonly metadata_: () => grpc.Metadata;

  constructor(opts: ClientOptions) {
    pkg ??= loadPackage(FILES);
    const creds = credentialsFor(opts);
    this.metadata_ = metadataFor(opts);
    this.prediction = new pkg.tensorflow.serving.PredictionService(opts.address, creds, channelOptions);
    this.model = new pkg.tensorflow.serving.ModelService(opts.address, creds, channelOptions);
    this.timeoutMs = opts.timeoutMs ?? 30_000;
  }

  private unary(stub: Stub, method: string, request: unknown, timeoutMs: number): Promise<any> {
    return unaryCall(stub, method, request, timeoutMs, this.metadata_());
  }

  async status(model: string, opts: CallOptions = {}): Promise<ModelVersionStatus[]> {
    const res = await this.unary(this.model, 'GetModelStatus', { model_spec: modelSpec(model, opts.version) }, opts.timeoutMs ?? this.timeoutMs);
    return (res.model_version_status ?? []).map((s: any) => ({
      version: String(s.version),
      state: String(s.state),
      errorCode: String(s.status?.error_code ?? 'OK'),
      errorMessage: String(s.status?.error_message ?? ''),
    }));
  }

  async metadata(model: string, opts: CallOptions = {}): Promise<ModelMetadata> {
    const res = await this.unary(this.prediction, 'GetModelMetadata', { model_spec: modelSpec(model, opts.version), metadata_field: ['signature_def'] }, opts.timeoutMs ?? this.timeoutMs);
    const any = res.metadata?.signature_def;
    if (!any?.value) throw badResponse('GetModelMetadata', 'no signature_def in the answer');
    const map = signatureType().toObject(signatureType().decode(any.value), { longs: Number, enums: String, defaults: true }) as any;
    const sig = map.signature_def?.serving_default;
    if (!sig) throw badResponse('GetModelMetadata', 'no serving_default signature');
    return {
      name: String(res.model_spec?.name ?? model),
      versions: [String(res.model_spec?.version?.value ?? '')],
      inputs: specsOf(sig.inputs),
      outputs: specsOf(sig.outputs),
    };
  }

  predict(model: string, inputs: InferInputs, opts: InferOptions = {}): Promise<InferResult> {
    return this.infer(model, inputs, opts);
  }

  async infer(model: string, inputs: InferInputs, opts: InferOptions = {}): Promise<InferResult> {
    const request = {
      model_spec: modelSpec(model, opts.version),
      inputs: Object.fromEntries(inputEntries(inputs).map(([name, t]) => [name, toTensorProto(t)])),
      output_filter: opts.outputs ? [...opts.outputs] : [],
    };
    const res = await this.unary(this.prediction, 'Predict', request, opts.timeoutMs ?? this.timeoutMs);
    const outputs: Record<string, Tensor> = {};
    for (const [name, proto] of Object.entries(res.outputs ?? {})) outputs[name] = fromTensorProto(name, proto);
    return { modelName: String(res.model_spec?.name ?? model), modelVersion: String(res.model_spec?.version?.value ?? ''), outputs };
  }

  async reload(_models?: readonly string[], opts: { timeoutMs?: number } = {}): Promise<void> {
    const res = await this.unary(this.model, 'HandleReloadConfigRequest', { config: { model_config_list: { config: [] } } }, opts.timeoutMs ?? this.timeoutMs);
    const code = String(res.status?.error_code ?? 'OK');
    if (code !== 'OK') {
      throw new ClientError({ call: 'HandleReloadConfigRequest', code: 0, status: code, details: String(res.status?.error_message ?? ''), transport: 'grpc' });
    }
  }

  close(): void {
    this.prediction.close();
    this.model.close();
  }
}

function modelSpec(name: string, version: number | undefined): object {
  return version === undefined ? { name } : { name, version: { value: String(version) } };
}

function specsOf(map: Record<string, any> | undefined): TensorSpec[] {
  return Object.entries(map ?? {}).map(([name, info]) => ({
    name,
    dtype: fromTfName(String(info.dtype)) ?? 'FP32',
    shape: (info.tensor_shape?.dim ?? []).map((d: any) => Number(d.size)),
  }));
}

function badResponse(call: string, details: string): ClientError {
  return new ClientError({ call, code: 0, status: 'BAD_RESPONSE', details, transport: 'grpc' });
}

function toTensorProto(t: Tensor): object {
  const info = dtypeInfo(t.dtype);
  const proto: Record<string, unknown> = {
    dtype: info.tfName,
    tensor_shape: { dim: t.shape.map((size) => ({ size: String(size) })) },
  };
  if (isStringData(t.data)) proto['string_val'] = t.data.map((b) => Buffer.from(b.buffer, b.byteOffset, b.byteLength));
  else proto['tensor_content'] = bufferOf(t.data);
  return proto;
}

/** Typed value fields by dtype, for answers that do not use tensor_content. */
const VALUE_FIELDS: Partial<Record<DType, string>> = {
  FP32: 'float_val', FP64: 'double_val', INT32: 'int_val', INT16: 'int_val', INT8: 'int_val', UINT8: 'int_val',
  UINT16: 'int_val', FP16: 'half_val', INT64: 'int64_val', UINT32: 'uint32_val', UINT64: 'uint64_val', BOOL: 'bool_val',
};

export function fromTensorProto(name: string, proto: any): Tensor {
  const dtype = fromTfName(String(proto.dtype));
  if (!dtype) throw badResponse('Predict', `output ${name} has unsupported dtype ${String(proto.dtype)}`);
  const shape: number[] = (proto.tensor_shape?.dim ?? []).map((d: any) => Number(d.size));
  if (dtype === 'STRING') return tensor('STRING', shape, (proto.string_val ?? []).map((b: Buffer) => new Uint8Array(b)));
  const content: Buffer | undefined = proto.tensor_content;
  if (content && content.byteLength > 0) return { dtype, shape, data: viewBytes(dtype, content) };
  const field = VALUE_FIELDS[dtype];
  const values: unknown[] = field ? proto[field] ?? [] : [];
  try {
    // FP16 half_val holds raw bits already.
    if (dtype === 'FP16') return tensor('FP16', shape, Uint16Array.from(values as number[]));
    return tensor(dtype, shape, values.map((v) => (dtype === 'INT64' || dtype === 'UINT64' ? BigInt(String(v)) : v)) as never);
  } catch (err) {
    throw badResponse('Predict', `output ${name}: ${(err as Error).message}`);
  }
}
