/**
 * One error type for every client call, whatever the protocol: the server's code and message stay
 * readable (`err.code`, `err.details`), and `err.message` names the call that failed.
 */

export type Transport = 'grpc' | 'rest';

export class ClientError extends Error {
  /** gRPC status code (e.g. 5 NOT_FOUND) for gRPC calls, HTTP status for REST calls, 0 when no answer came. */
  readonly code: number;
  /** gRPC status name (NOT_FOUND) or `HTTP 404`; `TIMEOUT` / `UNREACHABLE` / `BAD_RESPONSE` when the server did not answer usefully. */
  readonly status: string;
  /** The server's own error text (OVMS's message), or what went wrong locally. */
  readonly details: string;
  readonly transport: Transport;

  constructor(opts: { call: string; code: number; status: string; details: string; transport: Transport; cause?: unknown }) {
    super(`${opts.call} failed: ${opts.status}: ${opts.details}`, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'ClientError';
    this.code = opts.code;
    this.status = opts.status;
    this.details = opts.details;
    this.transport = opts.transport;
  }
}

/** gRPC status names by code, for messages (grpc-js exposes only the enum). */
export const GRPC_STATUS_NAMES = [
  'OK', 'CANCELLED', 'UNKNOWN', 'INVALID_ARGUMENT', 'DEADLINE_EXCEEDED', 'NOT_FOUND', 'ALREADY_EXISTS',
  'PERMISSION_DENIED', 'RESOURCE_EXHAUSTED', 'FAILED_PRECONDITION', 'ABORTED', 'OUT_OF_RANGE',
  'UNIMPLEMENTED', 'INTERNAL', 'UNAVAILABLE', 'DATA_LOSS', 'UNAUTHENTICATED',
] as const;
