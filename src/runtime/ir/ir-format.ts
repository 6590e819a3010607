/**
 * OpenVINO IR models (.xml + .bin) served without OpenVINO: the IR is imported into an ONNX
 * graph in memory (to-onnx.ts) and handed to the ONNX runtime path, so sessions, workers, nireq
 * and reshapes work as for .onnx files. A version folder is IR when it holds an .xml and a .bin;
 * OVMS takes the first of each, whatever their names.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { ServingError, servingError } from '../../core/errors.js';
import type { LoadRequest, ModelFormat, RuntimeOptions } from '../engine.js';
import { decodeModel, needsRewrite, rewriteModel } from '../onnx/model-rewrite.js';
import { loadOnnxModel } from '../onnx/onnx-format.js';
import { IrImportError } from './errors.js';
import { IrModel } from './ir-model.js';
import { type ImportedIr, importIr } from './to-onnx.js';

function firstWithExtension(fileNames: readonly string[], ext: string): string | undefined {
  return [...fileNames].sort().find((n) => n.toLowerCase().endsWith(ext));
}

export const irFormat: ModelFormat = {
  name: 'ir',
  pick(fileNames) {
    const xml = firstWithExtension(fileNames, '.xml');
    const bin = firstWithExtension(fileNames, '.bin');
    return xml && bin ? [xml, bin] : undefined;
  },
  load: loadIr,
  async inspect(req) {
    const imported = await importFiles(req.dir, req.files, {});
    return {
      inputs: imported.inputs.map((i) => ({ name: i.name, dtype: i.dtype, shape: i.shape.map((d) => (typeof d === 'number' ? d : -1)) })),
      outputs: [...imported.outputSpecs],
    };
  },
};

/** Reads the .xml and .bin and imports them; errors name the .xml. */
export async function importFiles(dir: string, files: readonly string[], inputShapes: RuntimeOptions['inputShapes']): Promise<ImportedIr> {
  const xmlPath = path.join(dir, files[0]!);
  const binPath = path.join(dir, files[1]!);
  let xml: string;
  let bin: Buffer;
  try {
    [xml, bin] = await Promise.all([readFile(xmlPath, 'utf8'), readFile(binPath)]);
  } catch (err) {
    throw servingError('INTERNAL_ERROR', `cannot read OpenVINO IR model ${xmlPath}: ${(err as Error).message}`);
  }
  try {
    return importIr(xml, bin, { inputShapes: inputShapes ?? undefined });
  } catch (err) {
    if (err instanceof IrImportError || err instanceof ServingError) {
      throw servingError('INTERNAL_ERROR', `cannot import OpenVINO IR model ${xmlPath}: ${err.message}`);
    }
    throw err;
  }
}

async function loadIr(req: LoadRequest): Promise<IrModel> {
  const log = req.logger.child({ model: req.modelName, version: req.version });
  const shapes = req.options.inputShapes;
  const imported = await importFiles(req.dir, req.files, shapes);
  log.info({ operations: imported.opCounts, postStages: imported.postStages.map((s) => s.kind) }, 'OpenVINO IR model imported to ONNX');
  // Input shapes are set by the import; layout and normalisation edits are the ONNX path's.
  const rest: RuntimeOptions = { ...req.options, inputShapes: undefined };
  let bytes = imported.model;
  if (needsRewrite(rest)) bytes = rewriteModel(decodeModel(bytes), rest).bytes;
  const reshaped = Object.keys(shapes ?? {}).length > 0;
  const inner = await loadOnnxModel({ ...req, options: rest }, { file: path.join(req.dir, req.files[0]!), bytes, reshaped });
  return new IrModel(inner, imported.outputs, imported.postStages);
}
