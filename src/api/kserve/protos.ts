/**
 * The KServe v2 messages used off the hot path (health, metadata, repository), by protobufjs
 * reflection over proto/inference/grpc_predict_v2.proto. ModelInfer has the hand-written codec
 * (infer-codec.ts).
 */
import path from 'node:path';
import protobuf from 'protobufjs';
import { protoDir } from '../tfs/grpc-protos.js';

export const kserveProtoFile = 'inference/grpc_predict_v2.proto';

const root = (() => {
  const r = new protobuf.Root();
  r.resolvePath = (_origin, target) => path.join(protoDir, target);
  r.loadSync(kserveProtoFile, { keepCase: true });
  r.resolveAll();
  return r;
})();

const type = (name: string) => root.lookupType(`inference.${name}`);

export const ks = {
  ServerLiveRequest: type('ServerLiveRequest'),
  ServerLiveResponse: type('ServerLiveResponse'),
  ServerReadyRequest: type('ServerReadyRequest'),
  ServerReadyResponse: type('ServerReadyResponse'),
  ModelReadyRequest: type('ModelReadyRequest'),
  ModelReadyResponse: type('ModelReadyResponse'),
  ServerMetadataRequest: type('ServerMetadataRequest'),
  ServerMetadataResponse: type('ServerMetadataResponse'),
  ModelMetadataRequest: type('ModelMetadataRequest'),
  ModelMetadataResponse: type('ModelMetadataResponse'),
  RepositoryIndexRequest: type('RepositoryIndexRequest'),
  RepositoryIndexResponse: type('RepositoryIndexResponse'),
  RepositoryModelLoadRequest: type('RepositoryModelLoadRequest'),
  RepositoryModelLoadResponse: type('RepositoryModelLoadResponse'),
  RepositoryModelUnloadRequest: type('RepositoryModelUnloadRequest'),
  RepositoryModelUnloadResponse: type('RepositoryModelUnloadResponse'),
} as const;
