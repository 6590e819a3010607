/** Every IR operation the importer converts, by IR type name (docs/ir-ops.md lists them). */
import type { OpTable } from './context.js';
import { convOps } from './conv.js';
import { detectionOps } from './detection.js';
import { elementwiseOps } from './elementwise.js';
import { interpolateOps } from './interpolate.js';
import { mathOps } from './math.js';
import { normalizationOps } from './normalization.js';
import { shapeOps } from './shape.js';

export const opTable: OpTable = {
  ...elementwiseOps,
  ...convOps,
  ...shapeOps,
  ...mathOps,
  ...normalizationOps,
  ...interpolateOps,
  ...detectionOps,
};
