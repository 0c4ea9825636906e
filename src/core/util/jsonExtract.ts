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
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch !== '{' && ch !== '[') continue;
    const end = matchingClose(text, i);
    if (end < 0) continue;
    const v = tryParse(text.slice(i, end + 1));
    if (v !== undefined) return v;
  }
  return undefined;
}

function tryParse(s: string): unknown {
  if (!s || (s[0] !== '{' && s[0] !== '[')) return undefined;
  try {
    return JSON.parse(s);
  } catch {
    return undefined;
  }
}

/** Index of the bracket closing the one at `start`, honouring strings; -1 when unbalanced. */
function matchingClose(text: string, start: number): number {
  const stack: string[] = [];
  let inString = false;
  for (let i = start; i < text.length; i++) {
    const ch = text[i];
    if (inString) {
      if (ch === '\\') i++;
      else if (ch === '"') inString = false;
      continue;
    }
    if (ch === '"') inString = true;
    else if (ch === '{' || ch === '[') stack.push(ch === '{' ? '}' : ']');
    else if (ch === '}' || ch === ']') {
      if (stack.pop() !== ch) return -1;
      if (stack.length === 0) return i;
    }
  }
  return -1;
}
