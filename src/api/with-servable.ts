import type { Servable, ServableRegistry } from '../core/servable.js';

/**
 * Runs an inference request's `use` on its servable. A version that can take the request now is
 * used at once, without a promise hop (a measurable share of a tiny model's request); otherwise
 * getServable waits for a loading version (Predict and ModelInfer do) or fails with OVMS's error.
 */
export function withServable<T>(registry: ServableRegistry, name: string, version: number, signal: AbortSignal, use: (servable: Servable) => Promise<T>): Promise<T> {
  const ready = registry.readyServable?.(name, version);
  return ready ? use(ready) : registry.getServable(name, version, { waitForLoading: true, signal }).then(use);
}
