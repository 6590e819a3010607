/**
 * protobufjs as the fuzz oracle for the hand-written gRPC walkers. The walkers skip fields they do
 * not act on without parsing their insides (KServe `parameters`),
 * which protobufjs would parse and may reject; so a request the server accepts is read with the
 * full schema first, then with a lenient one where exactly those fields are opaque bytes.
 */
import protobuf from 'protobufjs';
import { protoRoot } from './tfs-grpc.js';
import { kserveRoot } from './kserve-grpc.js';

type Json = any;

/** A copy of `root` where the listed message fields (type path → field names) are plain bytes. */
function lenientRoot(root: protobuf.Root, opaque: Readonly<Record<string, readonly string[]>>): protobuf.Root {
  const json = root.toJSON() as Json;
  for (const [typePath, fields] of Object.entries(opaque)) {
    let node = json;
    for (const part of typePath.split('.')) node = node.nested[part];
    for (const name of fields) {
      const field = node.fields[name];
      node.fields[name] = { rule: 'repeated', type: 'bytes', id: field.id };
    }
  }
  const copy = protobuf.Root.fromJSON(json);
  copy.resolveAll();
  return copy;
}

// The repo's tensor.proto has only the fields the walker reads, so the TFS schema needs no opaque fields.
const tfsLenient = lenientRoot(protoRoot, {});
const kserveLenient = lenientRoot(kserveRoot, {
  'inference.ModelInferRequest': ['parameters'],
  'inference.ModelInferRequest.InferInputTensor': ['parameters'],
  'inference.ModelInferRequest.InferRequestedOutputTensor': ['parameters'],
});

const toObject = { longs: String, arrays: true, objects: true, defaults: false } as const;

/**
 * Tags whose varint carries bits beyond 32: the walkers truncate them and skip the (unknown)
 * field, protobufjs refuses them. A known divergence with its own failing test
 * (test/limits-grpc.test.ts), tolerated here so that the fuzzing keeps finding other problems.
 */
export const OVERLONG_TAG = 'invalid tag encoding';

export type Decoded = { readonly ok: true; readonly value: Json } | { readonly ok: false; readonly reason: string };

function decodeWith(strict: protobuf.Type, lenient: protobuf.Type, bytes: Uint8Array): Decoded {
  try {
    return { ok: true, value: strict.toObject(strict.decode(bytes), toObject) };
  } catch {
    try {
      return { ok: true, value: lenient.toObject(lenient.decode(bytes), toObject) };
    } catch (err) {
      return { ok: false, reason: (err as Error).message };
    }
  }
}

export function decodePredictRequest(bytes: Uint8Array): Decoded {
  return decodeWith(protoRoot.lookupType('tensorflow.serving.PredictRequest'), tfsLenient.lookupType('tensorflow.serving.PredictRequest'), bytes);
}

export function decodeInferRequest(bytes: Uint8Array): Decoded {
  return decodeWith(kserveRoot.lookupType('inference.ModelInferRequest'), kserveLenient.lookupType('inference.ModelInferRequest'), bytes);
}
