/**
 * Reading custom node `params` (config.json gives strings only). Shared by the nodes shipped in
 * this folder; a bad value fails `initialize`, so the pipeline reports it when it loads.
 */
import type { CustomNodeParams } from '../src/pipeline/custom-node-api.js';

export function numberParam(params: CustomNodeParams, key: string, fallback: number, opts: { min?: number; integer?: boolean } = {}): number {
  const raw = params[key];
  if (raw === undefined || raw.trim() === '') return fallback;
  const v = Number(raw);
  if (!Number.isFinite(v) || (opts.integer && !Number.isInteger(v)) || (opts.min !== undefined && v < opts.min)) {
    throw new Error(`param ${key}: "${raw}" is not ${opts.integer ? 'an integer' : 'a number'}${opts.min !== undefined ? ` >= ${opts.min}` : ''}`);
  }
  return v;
}

/** A comma-separated list of numbers, e.g. mean "0.485,0.456,0.406"; a single value is repeated. */
export function listParam(params: CustomNodeParams, key: string, fallback: readonly number[], length: number): number[] {
  const raw = params[key];
  const values = raw === undefined || raw.trim() === '' ? [...fallback] : raw.split(',').map((s) => Number(s.trim()));
  if (values.some((v) => !Number.isFinite(v))) throw new Error(`param ${key}: "${raw}" is not a list of numbers`);
  if (values.length === 1) return new Array<number>(length).fill(values[0]!);
  if (values.length !== length) throw new Error(`param ${key}: expected ${length} values, got ${values.length}`);
  return values;
}

export function choiceParam<T extends string>(params: CustomNodeParams, key: string, choices: readonly T[], fallback: T): T {
  const raw = params[key];
  if (raw === undefined || raw === '') return fallback;
  const v = raw.trim();
  const found = choices.find((c) => c.toLowerCase() === v.toLowerCase());
  if (!found) throw new Error(`param ${key}: "${raw}" is not one of ${choices.join(', ')}`);
  return found;
}

export function boolParam(params: CustomNodeParams, key: string, fallback: boolean): boolean {
  const raw = params[key];
  if (raw === undefined || raw === '') return fallback;
  const v = raw.trim().toLowerCase();
  if (v === 'true' || v === '1' || v === 'yes') return true;
  if (v === 'false' || v === '0' || v === 'no') return false;
  throw new Error(`param ${key}: "${raw}" is not true or false`);
}
