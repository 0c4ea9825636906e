import * as fs from 'node:fs';

/** Temp file, fsync, rename: a reader sees the old or the new content, never a mix. */
export function writeFileAtomic(file: string, content: string | Uint8Array): void {
  const tmp = `${file}.tmp-${process.pid}-${Date.now()}`;
  const fd = fs.openSync(tmp, 'w');
  try {
    fs.writeSync(fd, typeof content === 'string' ? Buffer.from(content) : content);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, file);
}

/**
 * The records of an append-only JSONL cache: missing file → none; blank lines, lines that do not parse (an
 * append a crash cut short) and lines that are not a JSON object are skipped, so what they held is computed again.
 */
export function readAppendedJsonLines<T>(file: string): T[] {
  if (!fs.existsSync(file)) return [];
  const rows: T[] = [];
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    try {
      const row: unknown = JSON.parse(line);
      if (row && typeof row === 'object') rows.push(row as T);
    } catch {
      /* a torn append */
    }
  }
  return rows;
}
