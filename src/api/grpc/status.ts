/**
 * ServingError → gRPC status, in one place for every gRPC service. Anything that is not a
 * ServingError is a bug or a runtime failure: the client gets INTERNAL with OVMS's generic text,
 * and the real error goes to the log.
 */
import { status as GrpcStatus, type ServerErrorResponse } from '@grpc/grpc-js';
import type { Logger } from 'pino';
import { grpcStatusOf, ServingError, servingError } from '../../core/errors.js';

export { grpcStatusOf };

export function grpcErrorOf(err: unknown, logger: Logger, method: string): ServerErrorResponse {
  if (err instanceof ServingError) {
    // Expected outcomes (and INTERNAL ones the serving layer has already logged with their cause).
    logger.debug({ method, code: err.code, cause: err.cause }, `${method}: ${err.message}`);
    return { name: 'ServingError', message: err.message, code: grpcStatusOf(err), details: err.message };
  }
  logger.error({ err, method }, `${method} failed with an unexpected error`);
  const internal = servingError('INTERNAL_ERROR');
  return { name: 'ServingError', message: internal.message, code: GrpcStatus.INTERNAL, details: internal.message };
}
