import type { VersionPolicy } from '@maas/registry';

/** The versions a policy wants out of those present on disk, highest first. */
export function selectVersions(policy: VersionPolicy, present: Iterable<number>): number[] {
  const sorted = [...present].sort((a, b) => b - a);
  switch (policy.kind) {
    case 'latest':
      return sorted.slice(0, policy.numVersions);
    case 'all':
      return sorted;
    case 'specific':
      return sorted.filter((version) => policy.versions.includes(version));
  }
}
