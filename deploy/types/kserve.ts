/**
 * The parts of KServe's CRDs (serving.kserve.io) that deploy/kserve uses, as closed TypeScript
 * types for the unknown-field check in scripts/check-deploy. No npm package ships them; the field
 * names follow KServe's Go API types (v1alpha1 ServingRuntime, v1beta1 InferenceService). A legal
 * field that is missing here fails the check loudly: add it after checking KServe's API reference.
 */
import type { Affinity, Container, LocalObjectReference, PodSpec, Toleration, Volume } from 'kubernetes-types/core/v1';
import type { DeploymentStrategy } from 'kubernetes-types/apps/v1';
import type { ObjectMeta } from 'kubernetes-types/meta/v1';

export type ProtocolVersion = 'v1' | 'v2' | 'grpc-v1' | 'grpc-v2';

export interface SupportedModelFormat {
  name: string;
  version?: string;
  autoSelect?: boolean;
  priority?: number;
}

export interface ServingRuntimeSpec {
  supportedModelFormats?: SupportedModelFormat[];
  multiModel?: boolean;
  disabled?: boolean;
  protocolVersions?: ProtocolVersion[];
  containers: Container[];
  volumes?: Volume[];
  nodeSelector?: Record<string, string>;
  affinity?: Affinity;
  tolerations?: Toleration[];
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  imagePullSecrets?: LocalObjectReference[];
  hostIPC?: boolean;
  grpcEndpoint?: string;
  grpcDataEndpoint?: string;
  httpDataEndpoint?: string;
  replicas?: number;
  storageHelper?: { disabled?: boolean };
}

export interface ServingRuntime {
  apiVersion: 'serving.kserve.io/v1alpha1';
  kind: 'ServingRuntime';
  metadata?: ObjectMeta;
  spec: ServingRuntimeSpec;
}

export interface ClusterServingRuntime {
  apiVersion: 'serving.kserve.io/v1alpha1';
  kind: 'ClusterServingRuntime';
  metadata?: ObjectMeta;
  spec: ServingRuntimeSpec;
}

/** PredictorExtensionSpec: storage and protocol, plus every Container field inline (name optional). */
export interface ModelSpec extends Partial<Container> {
  modelFormat: { name: string; version?: string };
  runtime?: string;
  storageUri?: string;
  runtimeVersion?: string;
  protocolVersion?: ProtocolVersion;
}

/** ComponentExtensionSpec (deployment settings of a component). */
export interface ComponentExtensionSpec {
  minReplicas?: number;
  maxReplicas?: number;
  scaleTarget?: number;
  scaleMetric?: 'cpu' | 'memory' | 'concurrency' | 'rps';
  containerConcurrency?: number;
  timeout?: number;
  canaryTrafficPercent?: number;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  deploymentStrategy?: DeploymentStrategy;
}

/** PredictorSpec: a model (the one implementation used here), PodSpec fields inline, and the extension. */
export interface PredictorSpec extends Partial<PodSpec>, ComponentExtensionSpec {
  model?: ModelSpec;
}

export interface InferenceService {
  apiVersion: 'serving.kserve.io/v1beta1';
  kind: 'InferenceService';
  metadata?: ObjectMeta;
  spec: { predictor: PredictorSpec };
}
