/**
 * gRPC method definitions that pass message bytes through untouched (identity serializers), and
 * the protobufjs decode used by the non-hot-path handlers with a clear error for bad bytes.
 */
import type { MethodDefinition } from '@grpc/grpc-js';
import type protobuf from 'protobufjs';
import { ServingError } from '../../core/errors.js';

const identity = (b: Buffer): Buffer => b;

export function rawMethod(service: string, method: string): MethodDefinition<Buffer, Buffer> {
  return {
    path: `/${service}/${method}`,
    requestStream: false,
    responseStream: false,
    requestSerialize: identity,
    requestDeserialize: identity,
    responseSerialize: identity,
    responseDeserialize: identity,
    originalName: method,
  };
}

/** Decodes `bytes` as `type`; malformed bytes → INVALID_ARGUMENT naming the message. */
export function decodeMessage(type: protobuf.Type, bytes: Uint8Array): protobuf.Message {
  try {
    return type.decode(bytes);
  } catch (err) {
    throw new ServingError('INVALID_ARGUMENT', `Malformed ${type.name}: ${(err as Error).message}`, { cause: err });
  }
}

/** protobufjs output as a Buffer view (grpc-js needs a Buffer; no copy). */
export function encodeMessage(type: protobuf.Type, value: Record<string, unknown>): Buffer {
  const bytes = type.encode(type.fromObject(value)).finish();
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
