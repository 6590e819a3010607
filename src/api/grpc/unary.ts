/**
 * Adapts an async request handler to grpc-js's unary callback style: errors become gRPC statuses
 * (status.ts), and the handler's AbortSignal fires when the client cancels or its deadline passes,
 * so waiting and queued work can stop early.
 */
import type { handleUnaryCall, sendUnaryData, ServerUnaryCall } from '@grpc/grpc-js';
import type { Logger } from 'pino';
import { abortControllers } from '../../core/abort-pool.js';
import { joinParts } from '../tfs/proto-wire.js';
import { grpcErrorOf } from './status.js';

/**
 * `deadline` is the client's gRPC deadline in Date.now() milliseconds, undefined when it set none.
 * A handler may also throw before returning its promise (the inference handlers are not async, to
 * save promise hops); both adapters (this one and direct-calls.ts) answer that like a rejection.
 */
export type UnaryHandler<Req, Res> = (request: Req, signal: AbortSignal, deadline: number | undefined) => Promise<Res>;

function deadlineOf(call: ServerUnaryCall<unknown, unknown>): number | undefined {
  const d = call.getDeadline();
  const ms = d instanceof Date ? d.getTime() : d;
  return Number.isFinite(ms) ? ms : undefined;
}

/** A grpc-js unary handler that also carries the async handler it adapts (direct-calls.ts serves that). */
export type AdaptedUnaryCall<Req, Res> = handleUnaryCall<Req, Res> & { readonly handler: UnaryHandler<Req, Res> };

export function unary<Req, Res>(method: string, logger: Logger, handler: UnaryHandler<Req, Res>): AdaptedUnaryCall<Req, Res> {
  const adapted = (call: ServerUnaryCall<Req, Res>, callback: sendUnaryData<Res>) => {
    const controller = abortControllers.take();
    const onCancel = () => controller.abort();
    call.once('cancelled', onCancel);
    let result: Promise<Res>;
    try {
      result = handler(call.request, controller.signal, deadlineOf(call));
    } catch (err) {
      result = Promise.reject(err);
    }
    result.then(
      (response) => {
        call.off('cancelled', onCancel);
        // grpc-js sends one buffer: a message in parts (proto-wire.ts MessageParts) is joined here.
        callback(null, (Array.isArray(response) ? joinParts(response as readonly Buffer[]) : response) as Res);
        abortControllers.give(controller);
      },
      (err: unknown) => {
        call.off('cancelled', onCancel);
        callback(grpcErrorOf(err, logger, method));
        abortControllers.give(controller);
      },
    );
  };
  return Object.assign(adapted, { handler });
}
