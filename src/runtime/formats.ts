import type { ModelFormat } from './engine.js';
import { irFormat } from './ir/ir-format.js';
import { onnxFormat } from './onnx/onnx-format.js';

/** Model formats in the order a version folder is matched against them (OVMS tries IR before ONNX). */
export const modelFormats: readonly ModelFormat[] = [irFormat, onnxFormat];
