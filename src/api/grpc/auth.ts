/**
 * API-key check for every gRPC method but KServe's ServerLive: a server interceptor reads the
 * `authorization` metadata before the handler sees the call, and ends the call with
 * UNAUTHENTICATED when the key is missing or wrong.
 */
import {
  ResponderBuilder, ServerInterceptingCall, ServerListenerBuilder, status, type ServerInterceptor,
} from '@grpc/grpc-js';
import { UNAUTHENTICATED_MESSAGE, type ApiKey } from '../security.js';

/** Liveness stays open so orchestrators can probe without the key. */
export const OPEN_METHODS: ReadonlySet<string> = new Set(['/inference.GRPCInferenceService/ServerLive']);

export function apiKeyInterceptor(apiKey: ApiKey): ServerInterceptor {
  return (method, call) => {
    if (OPEN_METHODS.has(method.path)) return new ServerInterceptingCall(call);
    const listener = new ServerListenerBuilder()
      .withOnReceiveMetadata((metadata, next) => {
        const values = metadata.get('authorization');
        const header = values.length === 1 && typeof values[0] === 'string' ? values[0] : undefined;
        if (apiKey.acceptsAuthorization(header)) next(metadata);
        else call.sendStatus({ code: status.UNAUTHENTICATED, details: UNAUTHENTICATED_MESSAGE });
      })
      .build();
    const responder = new ResponderBuilder().withStart((next) => next(listener)).build();
    return new ServerInterceptingCall(call, responder);
  };
}
