/**
 * KServe-specific request errors with OVMS's texts where OVMS has one (SPEC §6.4). Everything
 * else a KServe request can fail with is an OVMS status from core/errors.ts.
 */
import { ServingError, servingError } from '../../core/errors.js';

export function invalidVersionFormat(): ServingError {
  return new ServingError('INVALID_ARGUMENT', 'invalid model version format in request');
}

export function bothContentsAndRaw(): ServingError {
  return new ServingError(
    'INVALID_ARGUMENT',
    'Passing buffers both in ModelInferRequest::InferInputTensor::contents and in ModelInferRequest::raw_input_contents is not allowed',
  );
}

export function invalidArgument(message: string): ServingError {
  return new ServingError('INVALID_ARGUMENT', message);
}

/**
 * A KServe version string → the number the registry takes (0 = default version). OVMS parses it
 * as an integer: anything but digits is "invalid model version format in request"; "-3" is a
 * number but no version, so "not found"; digits past 2^53 cannot name a version either.
 */
export function parseModelVersion(version: string): number {
  if (version === '') return 0;
  if (/^-\d+$/.test(version)) throw servingError('MODEL_VERSION_MISSING');
  if (!/^\d+$/.test(version)) throw invalidVersionFormat();
  const n = Number(version);
  if (!Number.isSafeInteger(n)) throw servingError('MODEL_VERSION_MISSING');
  return n;
}
