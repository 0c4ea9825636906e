import { describe, expect, it } from 'vitest';
import { sourceLabel } from '../../src/webview/format';

describe('panel source labels', () => {
  const sha = '3756de2699a82f0a24c4807bb4025fa668f482e5';

  it("cuts a commit's full sha to git's short form, keeping the full one on request", () => {
    expect(sourceLabel({ kind: 'commit', ref: sha, actor: 'ada' })).toBe('commit · 3756de2 · by ada');
    expect(sourceLabel({ kind: 'commit', ref: sha }, { full: true })).toBe(`commit · ${sha}`);
  });

  it('leaves other references alone', () => {
    expect(sourceLabel({ kind: 'save', ref: 'src/a.ts' })).toBe('save · src/a.ts');
    expect(sourceLabel({ kind: 'commit', ref: 'HEAD~1' })).toBe('commit · HEAD~1');
    expect(sourceLabel(undefined)).toBe('');
  });
});
