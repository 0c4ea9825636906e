import { DEFAULT_EXCLUDE_GLOBS, createExclusionMatcher } from '../../core/privacy/exclusions';

export interface PathFilter {
  /** True for a workspace-relative path that must never be captured. */
  isExcluded(relPath: string): boolean;
}

/** The built-in exclusions (secrets, keys, build output ...) plus the user's `projectMemory.capture.exclude`. */
export function createPathFilter(userGlobs: string[]): PathFilter {
  const matches = createExclusionMatcher([...DEFAULT_EXCLUDE_GLOBS, ...userGlobs]);
  return { isExcluded: (relPath) => matches(relPath.replace(/\\/g, '/')) };
}
