/**
 * tensorflow.serving.PredictionService over grpc-js (SPEC §6.2).
 *
 * Every method uses identity (de)serializers: grpc-js hands over the raw message bytes and the
 * handler decodes them itself, so a malformed message is answered INVALID_ARGUMENT with a reason
 * (grpc-js would say INTERNAL "Error deserializing request"), and Predict runs on the hand-written
 * codec without an intermediate object model.
 *
 * Choices where OVMS and TensorFlow Serving differ (both documented in docs/ and the report):
 * - PredictResponse.model_spec is filled {name, version, signature_name: "serving_default"} as TFS
 *   does; OVMS 2021.4 leaves it empty. Clients that ignore it see no difference.
 * - Output dtypes are the true element types (DT_HALF for FP16, ...), not OVMS's relabelling quirks.
 * - output_filter is honoured (TFS); OVMS ignores it. An unknown name is INVALID_ARGUMENT.
 * - Typed value fields (float_val, int_val, ...) are accepted like TFS does, not only tensor_content.
 * - model_spec.signature_name and version_label are ignored, as OVMS does (label → default version).
 * - SignatureDef.method_name is "tensorflow/serving/predict" (TFS); OVMS leaves it empty.
 */
import type { ServiceDefinition, UntypedServiceImplementation } from '@grpc/grpc-js';
import type { Logger } from 'pino';
import { dtypeInfo } from '../../core/dtype.js';
import { servingError } from '../../core/errors.js';
import type { InferOptions, ServableRegistry } from '../../core/servable.js';
import type { TensorSpec } from '../../core/tensor.js';
import type { ServingMetrics } from '../../metrics/serving-metrics.js';
import { arrivalTime, trackCall, trackInference } from '../../metrics/track.js';
import { unary } from '../grpc/unary.js';
import { withServable } from '../with-servable.js';
import { dataTypeName, int64ToNumber, messages, signatureDefMapTypeUrl } from './grpc-protos.js';
import { decodeInputs, encodePredictResponseParts, parsePredictRequest } from './predict-codec.js';
import type { MessageParts } from './proto-wire.js';
import { decodeMessage, encodeMessage, rawMethod } from './grpc-raw.js';

const SERVICE = 'tensorflow.serving.PredictionService';
const SIGNATURE = 'serving_default';
const PREDICT_METHOD_NAME = 'tensorflow/serving/predict';

export const predictionServiceDefinition: ServiceDefinition = {
  Classify: rawMethod(SERVICE, 'Classify'),
  Regress: rawMethod(SERVICE, 'Regress'),
  Predict: rawMethod(SERVICE, 'Predict'),
  MultiInference: rawMethod(SERVICE, 'MultiInference'),
  GetModelMetadata: rawMethod(SERVICE, 'GetModelMetadata'),
};

export interface TfsServiceDeps {
  readonly registry: ServableRegistry;
  readonly logger: Logger;
  /** Present when metrics are enabled (OVMS's ovms_* series, src/metrics). */
  readonly metrics?: ServingMetrics;
}

export function predictionServiceImplementation({ registry, logger, metrics }: TfsServiceDeps): UntypedServiceImplementation {
  const predictMetrics = metrics?.endpoint('TensorFlowServing', 'gRPC', 'Predict');
  const metadataMetrics = metrics?.endpoint('TensorFlowServing', 'gRPC', 'GetModelMetadata');
  const notImplemented = (method: string) =>
    unary<Buffer, Buffer>(method, logger, async () => {
      throw servingError('NOT_IMPLEMENTED', `${method} is not supported by this server; use Predict`);
    });

  return {
    Classify: notImplemented('Classify'),
    Regress: notImplemented('Regress'),
    MultiInference: notImplemented('MultiInference'),

    // Not async: with the version ready, the request goes to the runtime without a promise hop.
    Predict: unary<Buffer, MessageParts>('Predict', logger, (body, signal, deadline) => {
      const started = arrivalTime(predictMetrics);
      const request = parsePredictRequest(body);
      const spec = request.modelSpec;
      if (!spec) throw servingError('MODEL_SPEC_MISSING');
      return withServable(registry, spec.name, spec.version ?? 0, signal, (servable) => trackInference(predictMetrics?.of(servable), started, (observe) => {
        const inputs = decodeInputs(request.inputs, servable.inputs, dataTypeName);
        const options: InferOptions = {
          signal, deadline, observe, outputs: request.outputFilter.length > 0 ? request.outputFilter : undefined,
        };
        return servable.infer(inputs, options).then((outputs) =>
          encodePredictResponseParts(outputs, { name: servable.name, version: servable.version, signatureName: SIGNATURE }));
      }));
    }),

    GetModelMetadata: unary<Buffer, Buffer>('GetModelMetadata', logger, async (body, signal) => {
      const request = decodeMessage(messages.GetModelMetadataRequest, body) as unknown as MetadataRequest;
      const spec = request.model_spec;
      if (!spec) throw servingError('MODEL_SPEC_MISSING');
      const fields = request.metadata_field;
      if (fields.length !== 1 || fields[0] !== 'signature_def') throw servingError('INVALID_SIGNATURE_DEF');
      const version = spec.version ? int64ToNumber(spec.version.value) : 0;
      // Metadata does not wait for a version that is still loading (OVMS answers at once).
      const servable = await registry.getServable(spec.name, version, { waitForLoading: false, signal });
      return trackCall(metadataMetrics?.of(servable), () => encodeMetadata(servable.name, servable.version, servable.inputs, servable.outputs));
    }),
  };
}

interface MetadataRequest {
  model_spec: { name: string; version: { value: unknown } | null } | null;
  metadata_field: string[];
}

function encodeMetadata(name: string, version: number, inputs: readonly TensorSpec[], outputs: readonly TensorSpec[]): Buffer {
  const signatureDefMap = encodeMessage(messages.SignatureDefMap, {
    signature_def: {
      [SIGNATURE]: { inputs: tensorInfos(inputs), outputs: tensorInfos(outputs), method_name: PREDICT_METHOD_NAME },
    },
  });
  return encodeMessage(messages.GetModelMetadataResponse, {
    model_spec: { name, version: { value: version } },
    metadata: { signature_def: { type_url: signatureDefMapTypeUrl, value: signatureDefMap } },
  });
}

/** TensorInfo per tensor, keyed by its client-visible name; -1 marks a dimension of any size. */
function tensorInfos(specs: readonly TensorSpec[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const s of specs) {
    out[s.name] = {
      name: s.name,
      dtype: dtypeInfo(s.dtype).tf,
      tensor_shape: { dim: s.shape.map((size) => ({ size: size < 0 ? -1 : size })) },
    };
  }
  return out;
}
