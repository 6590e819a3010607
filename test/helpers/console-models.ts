/**
 * Generated models for the client and console tests, so they run without ../shared:
 * a detector with a fixed `detection_out` answer and a softmax classifier.
 */
import { buildOnnxModel } from '../../src/runtime/onnx/model-builder.js';

/** The rows detectorModel answers: [image_id, label, conf, x1, y1, x2, y2] (0..1 coordinates). */
export const DETECTIONS: readonly (readonly number[])[] = [
  [0, 1, 0.9, 0.1, 0.1, 0.45, 0.5],
  [0, 2, 0.75, 0.55, 0.45, 0.9, 0.95],
  [0, 3, 0.2, 0.3, 0.3, 0.6, 0.6],
];

/**
 * Input `image` FP32 [1,3,H,W] (NCHW, like face-detection-retail-0004), output `detection_out`
 * FP32 [1,1,3,7] = DETECTIONS. The input is summed and multiplied by 0 into the answer, so the
 * model really runs on the image (ONNX Runtime rejects graphs whose outputs ignore the inputs
 * only in some versions; this keeps it unambiguous).
 */
export function detectorModel(height = 96, width = 128): Uint8Array {
  return buildOnnxModel({
    inputs: [{ name: 'image', dtype: 'FP32', shape: [1, 3, height, width] }],
    outputs: [{ name: 'detection_out', dtype: 'FP32', shape: [1, 1, DETECTIONS.length, 7] }],
    initializers: [
      { name: 'axes', dtype: 'INT64', shape: [3], values: [1, 2, 3] },
      { name: 'zero', dtype: 'FP32', shape: [1], values: [0] },
      { name: 'rows', dtype: 'FP32', shape: [1, 1, DETECTIONS.length, 7], values: DETECTIONS.flat() },
    ],
    nodes: [
      { op: 'ReduceSum', inputs: ['image', 'axes'], outputs: ['total'], attributes: { keepdims: 1 } },
      { op: 'Mul', inputs: ['total', 'zero'], outputs: ['nothing'] },
      { op: 'Add', inputs: ['rows', 'nothing'], outputs: ['detection_out'] },
    ],
  });
}

/** `probabilities` = Softmax(`logits`), FP32 [1,10]: a classifier whose top class is the largest logit. */
export function classifierModel(classes = 10): Uint8Array {
  return buildOnnxModel({
    inputs: [{ name: 'logits', dtype: 'FP32', shape: [1, classes] }],
    outputs: [{ name: 'probabilities', dtype: 'FP32', shape: [1, classes] }],
    nodes: [{ op: 'Softmax', inputs: ['logits'], outputs: ['probabilities'], attributes: { axis: 1 } }],
  });
}
