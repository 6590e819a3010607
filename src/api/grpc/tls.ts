/** Server credentials for the gRPC port: plaintext, TLS, or TLS with verified client certificates. */
import { ServerCredentials } from '@grpc/grpc-js';
import type { TlsMaterial } from '../security.js';

export function grpcServerCredentials(tls: TlsMaterial | undefined): ServerCredentials {
  if (!tls) return ServerCredentials.createInsecure();
  // With a CA, grpc-js requires and verifies a client certificate (third argument).
  return ServerCredentials.createSsl(tls.ca ?? null, [{ private_key: tls.key, cert_chain: tls.cert }], tls.ca !== undefined);
}
