// A small word diff for the timeline: longest common subsequence over word and whitespace tokens.

export type DiffKind = 'same' | 'add' | 'del';

export interface DiffPart {
  kind: DiffKind;
  text: string;
}

/** Above this many token pairs the table would be too big; the diff degrades to delete-all + add-all. */
const MAX_CELLS = 1_000_000;

export function tokenizeWords(text: string): string[] {
  return text.split(/(\s+)/).filter((t) => t.length > 0);
}

/** Word-level diff of `before` -> `after`. Adjacent parts of the same kind are merged. */
export function wordDiff(before: string, after: string): DiffPart[] {
  const a = tokenizeWords(before);
  const b = tokenizeWords(after);
  // Trim the common prefix and suffix first: edits are usually local.
  let start = 0;
  while (start < a.length && start < b.length && a[start] === b[start]) start++;
  let endA = a.length;
  let endB = b.length;
  while (endA > start && endB > start && a[endA - 1] === b[endB - 1]) {
    endA--;
    endB--;
  }
  const parts: DiffPart[] = [];
  const push = (kind: DiffKind, t: string): void => {
    const last = parts[parts.length - 1];
    if (last && last.kind === kind) last.text += t;
    else parts.push({ kind, text: t });
  };
  for (let i = 0; i < start; i++) push('same', a[i]);
  const midA = a.slice(start, endA);
  const midB = b.slice(start, endB);
  if (midA.length * midB.length > MAX_CELLS) {
    midA.forEach((t) => push('del', t));
    midB.forEach((t) => push('add', t));
  } else {
    for (const p of lcsDiff(midA, midB)) push(p.kind, p.text);
  }
  for (let i = endA; i < a.length; i++) push('same', a[i]);
  return groupChanges(parts.filter((p) => p.text.length > 0));
}

/**
 * Readability pass: whitespace left unchanged between two changes joins the change, and each run of
 * changes shows as one deletion followed by one insertion ("[-old words-]{+new words+}").
 */
function groupChanges(parts: DiffPart[]): DiffPart[] {
  const out: DiffPart[] = [];
  let del = '';
  let add = '';
  let carry = '';
  const flush = (): void => {
    // A replacement's shared trailing space belongs to the unchanged text after it.
    const space = del && add ? (/\s+$/.exec(del)?.[0] ?? '') : '';
    if (space && add.endsWith(space)) {
      del = del.slice(0, -space.length);
      add = add.slice(0, -space.length);
      carry = space;
    }
    if (del) out.push({ kind: 'del', text: del });
    if (add) out.push({ kind: 'add', text: add });
    del = '';
    add = '';
  };
  parts.forEach((p, i) => {
    const inChange = del !== '' || add !== '';
    const next = parts[i + 1];
    if (p.kind === 'del') del += p.text;
    else if (p.kind === 'add') add += p.text;
    else if (inChange && next && next.kind !== 'same' && /^\s+$/.test(p.text)) {
      del += p.text;
      add += p.text;
    } else {
      flush();
      out.push({ kind: 'same', text: carry + p.text });
      carry = '';
    }
  });
  flush();
  if (carry) out.push({ kind: 'same', text: carry });
  return out;
}

function lcsDiff(a: string[], b: string[]): DiffPart[] {
  const n = a.length;
  const m = b.length;
  // lengths[i][j] = LCS length of a[i..] and b[j..], flattened.
  const w = m + 1;
  const lengths = new Uint32Array((n + 1) * w);
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      lengths[i * w + j] = a[i] === b[j] ? lengths[(i + 1) * w + j + 1] + 1 : Math.max(lengths[(i + 1) * w + j], lengths[i * w + j + 1]);
    }
  }
  const out: DiffPart[] = [];
  let i = 0;
  let j = 0;
  while (i < n && j < m) {
    if (a[i] === b[j]) {
      out.push({ kind: 'same', text: a[i] });
      i++;
      j++;
    } else if (lengths[(i + 1) * w + j] >= lengths[i * w + j + 1]) {
      out.push({ kind: 'del', text: a[i++] });
    } else {
      out.push({ kind: 'add', text: b[j++] });
    }
  }
  while (i < n) out.push({ kind: 'del', text: a[i++] });
  while (j < m) out.push({ kind: 'add', text: b[j++] });
  return out;
}
