/** Which of the versions found on disk a model should serve (SPEC §4.1). */
import type { VersionPolicy } from '../config/types.js';

/** The versions to serve, ascending. */
export function selectVersions(policy: VersionPolicy, available: Iterable<number>): number[] {
  const found = [...new Set(available)].sort((a, b) => a - b);
  switch (policy.kind) {
    case 'all':
      return found;
    case 'latest':
      return policy.numVersions > 0 ? found.slice(-policy.numVersions) : [];
    case 'specific': {
      const wanted = new Set(policy.versions);
      return found.filter((v) => wanted.has(v));
    }
  }
}

export const defaultVersionPolicy: VersionPolicy = { kind: 'latest', numVersions: 1 };
