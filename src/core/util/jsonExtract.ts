/**
 * Pulls the first JSON value out of model output that may wrap it in prose, code fences or
 * `<think>` blocks. Returns undefined when nothing parses; never throws.
 */
export function extractJson(output: string): unknown {
  if (typeof output !== 'string' || output.length === 0) return undefined;
  const text = output.replace(/<think>[\s\S]*?(<\/think>|$)/gi, ' ');
  const direct = tryParse(text.trim());
  if (direct !== undefined) return direct;
  const fence = /```(?:json|JSON)?\s*([\s\S]*?)```/g;
  for (let m = fence.exec(text); m; m = fence.exec(text)) {
    const v = tryParse(m[1].trim());
    if (v !== undefined) return v;
  }
  // Degenerate output (a model looping on "[[[[") must not make this quadratic: one bracket scan
  // records the match of every opener it passes, and scanning plus parsing share a work budget.
  const matchOf = new Int32Array(text.length).fill(UNKNOWN);
  let budget = Math.max(4_000_000, 20 * text.length);
  for (let i = 0; i < text.length && budget > 0; i++) {
    const ch = text[i];
    if (ch !== '{' && ch !== '[') continue;
    let end = matchOf[i];
    if (end === UNKNOWN) {
      const scan = scanBrackets(text, i, matchOf);
      budget -= scan.scanned;
      end = scan.end;
    }
    if (end < 0) continue;
    budget -= end + 1 - i;
    const v = tryParse(text.slice(i, end + 1));
    if (v !== undefined) return v;
  }
  return undefined;
}

const UNKNOWN = -2;

function tryParse(s: string): unknown {
  if (!s || (s[0] !== '{' && s[0] !== '[')) return undefined;
  try {
    return JSON.parse(s);
  } catch {
    return undefined;
  }
}

/**
 * Index of the bracket closing the one at `start`, honouring strings; -1 when unbalanced. Every
 * opener passed on the way (outside strings) gets its own result in `matchOf`: a later scan from it
 * would see the same brackets, so it need not run again.
 */
function scanBrackets(text: string, start: number, matchOf: Int32Array): { end: number; scanned: number } {
  const stack: number[] = [];
  let inString = false;
  const settle = (end: number): void => {
    for (const open of stack) matchOf[open] = end;
  };
  for (let i = start; i < text.length; i++) {
    const ch = text[i];
    if (inString) {
      if (ch === '\\') i++;
      else if (ch === '"') inString = false;
      continue;
    }
    if (ch === '"') inString = true;
    else if (ch === '{' || ch === '[') stack.push(i);
    else if (ch === '}' || ch === ']') {
      const open = stack.pop();
      if (open === undefined || (text[open] === '{') !== (ch === '}')) {
        // A mismatch: every opener still open would run into it too.
        if (open !== undefined) stack.push(open);
        settle(-1);
        return { end: -1, scanned: i - start + 1 };
      }
      matchOf[open] = i;
      if (stack.length === 0) return { end: i, scanned: i - start + 1 };
    }
  }
  settle(-1);
  return { end: -1, scanned: text.length - start };
}
