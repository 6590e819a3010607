/**
 * onnxruntime-node session options of the in-process reference: the server's own
 * (src/runtime/onnx/session-options.ts), so the reference differs from tsms only by the transport.
 */
import type { InferenceSession } from 'onnxruntime-node';
import { sessionOptions } from '../../src/runtime/onnx/session-options.js';

export function referenceSessionOptions(intraOpThreads: number): InferenceSession.SessionOptions {
  return sessionOptions(intraOpThreads);
}
