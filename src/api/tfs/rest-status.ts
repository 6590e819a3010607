/**
 * GetModelStatus and GetModelMetadata as the protobuf JSON OVMS prints (SPEC §4.4, §6.3):
 *  - status: original field names, version as a string, state and error_code as enum names;
 *  - metadata: camelCase names, defaults printed, SignatureDefMap packed in an Any with "@type".
 * Both pretty-printed with one-space indentation like protobuf's JSON printer.
 * Field choices match the gRPC side (grpc-prediction-service.ts): signature "serving_default",
 * method_name "tensorflow/serving/predict" (TFS's value; OVMS leaves it empty).
 */
import { dtypeInfo } from '../../core/dtype.js';
import { ModelState, VersionErrorCode, type Servable, type VersionStatus } from '../../core/servable.js';
import type { TensorSpec } from '../../core/tensor.js';

const SIGNATURE = 'serving_default';
const PREDICT_METHOD_NAME = 'tensorflow/serving/predict';
const SIGNATURE_DEF_MAP_TYPE = 'type.googleapis.com/tensorflow.serving.SignatureDefMap';

/** GetModelStatusResponse as a plain object (also what /v1/config lists per model). */
export function modelStatusObject(statuses: readonly VersionStatus[]): object {
  return {
    model_version_status: statuses.map((s) => ({
      version: String(s.version),
      state: ModelState[s.state] ?? String(s.state),
      status: {
        error_code: VersionErrorCode[s.errorCode] ?? String(s.errorCode),
        error_message: s.errorMessage,
      },
    })),
  };
}

export function modelStatusJson(statuses: readonly VersionStatus[]): string {
  return JSON.stringify(modelStatusObject(statuses), null, 1);
}

export function modelMetadataJson(servable: Servable): string {
  const body = {
    modelSpec: { name: servable.name, signatureName: '', version: String(servable.version) },
    metadata: {
      signature_def: {
        '@type': SIGNATURE_DEF_MAP_TYPE,
        signatureDef: {
          [SIGNATURE]: {
            inputs: tensorInfos(servable.inputs),
            outputs: tensorInfos(servable.outputs),
            methodName: PREDICT_METHOD_NAME,
          },
        },
      },
    },
  };
  return JSON.stringify(body, null, 1);
}

/** TensorInfo per tensor, keyed by its client-visible name; -1 marks a dimension of any size. */
function tensorInfos(specs: readonly TensorSpec[]): Record<string, object> {
  // No prototype: a tensor named "__proto__" must stay a plain key.
  const out: Record<string, object> = Object.create(null);
  for (const s of specs) {
    out[s.name] = {
      dtype: dtypeInfo(s.dtype).tfName,
      tensorShape: { dim: s.shape.map((size) => ({ size: String(size < 0 ? -1 : size), name: '' })), unknownRank: false },
      name: s.name,
    };
  }
  return out;
}
