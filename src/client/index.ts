/**
 * tsms client library: typed-array tensors over the TensorFlow Serving and KServe v2 APIs, gRPC
 * or REST. `createClient({protocol, transport, address})` picks one; the classes are exported for
 * their protocol-specific calls (KServe repository, TFS /v1/config).
 */
import { KServeGrpcClient } from './kserve-grpc.js';
import { KServeRestClient } from './kserve-rest.js';
import { TfsGrpcClient } from './tfs-grpc.js';
import { TfsRestClient } from './tfs-rest.js';
import type { ClientOptions, Protocol, ServingClient } from './types.js';

export * from './types.js';
export { ClientError } from './errors.js';
export { tensor, tensorValues, nest, flatten, topK, describeTensor } from './tensors.js';
export { TfsGrpcClient } from './tfs-grpc.js';
export { TfsRestClient, type ConfigStatus } from './tfs-rest.js';
export { KServeGrpcClient, type RepositoryEntry } from './kserve-grpc.js';
export { KServeRestClient } from './kserve-rest.js';

export interface CreateClientOptions extends ClientOptions {
  readonly protocol?: Protocol;
  readonly transport?: 'grpc' | 'rest';
}

export function createClient(opts: CreateClientOptions): ServingClient {
  const protocol = opts.protocol ?? 'kserve';
  const transport = opts.transport ?? 'grpc';
  if (protocol === 'tfs') return transport === 'grpc' ? new TfsGrpcClient(opts) : new TfsRestClient(opts);
  return transport === 'grpc' ? new KServeGrpcClient(opts) : new KServeRestClient(opts);
}
