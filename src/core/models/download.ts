import { createHash, type Hash } from 'node:crypto';
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { processAlive } from '../util/processAlive';

export type DownloadErrorCode = 'HTTP' | 'NETWORK' | 'CHECKSUM' | 'SIZE' | 'ABORTED' | 'BUSY';

export class DownloadError extends Error {
  constructor(
    readonly code: DownloadErrorCode,
    message: string,
    readonly status?: number,
  ) {
    super(message);
    this.name = 'DownloadError';
  }
}

export interface DownloadProgress {
  /** Bytes of the file on disk so far, resumed bytes included. */
  received: number;
  /** Size of the whole file, when the server said. */
  total?: number;
}

export interface DownloadOptions {
  url: string;
  dest: string;
  /** Lower-case hex SHA-256 of the whole file. Without it the file is taken as it comes. */
  sha256?: string;
  onProgress?: (p: DownloadProgress) => void;
  signal?: AbortSignal;
  /** Further attempts after a dropped connection, each resuming where the last stopped. Default 3. */
  retries?: number;
}

export interface DownloadResult {
  path: string;
  bytes: number;
  sha256: string;
  /** Bytes that were already on disk in `dest + '.part'` and were not fetched again. */
  resumedFrom: number;
  /** The file was already at `dest` with the right checksum; nothing was fetched. */
  alreadyPresent: boolean;
}

/**
 * Downloads `url` to `dest`, resumably: bytes go to `dest + '.part'` and a later call (or a retry
 * after a dropped connection) asks the server for the rest with an HTTP Range request. The finished
 * file's SHA-256 is checked before it is renamed to `dest`, so `dest` only ever holds a whole,
 * verified file.
 *
 * What stays on disk when it fails:
 * - network errors, HTTP errors and aborts keep `.part`, so the next call resumes;
 * - a checksum or size mismatch removes `.part` (bytes that hash wrong cannot be resumed into a
 *   right file) and throws `DownloadError` with code `CHECKSUM` or `SIZE`.
 * Two processes downloading the same `dest` at once: the second gets code `BUSY`.
 */
export async function downloadFile(opts: DownloadOptions): Promise<DownloadResult> {
  const { url, dest, signal } = opts;
  const expected = opts.sha256?.toLowerCase();
  const existing = await existingFile(dest, expected);
  if (existing) return existing;

  await fsp.mkdir(path.dirname(dest), { recursive: true });
  const part = dest + '.part';
  const release = await lockDownload(part + '.lock', url);
  try {
    const retries = opts.retries ?? 3;
    let resumedFrom = -1;
    for (let attempt = 0; ; attempt++) {
      try {
        const { total, startedAt } = await fetchIntoPart(url, part, opts);
        if (resumedFrom < 0) resumedFrom = startedAt;
        const bytes = (await fsp.stat(part)).size;
        if (total !== undefined && bytes !== total) {
          // A server that ended the body early without an error: resume like a dropped connection.
          throw new DownloadError('NETWORK', `The download of ${url} ended after ${bytes} of ${total} bytes.`);
        }
        const sha256 = await hashFile(part);
        if (expected && sha256 !== expected) {
          await fsp.rm(part, { force: true });
          throw new DownloadError(
            'CHECKSUM',
            `The file downloaded from ${url} has SHA-256 ${sha256}, expected ${expected}; it was discarded.`,
          );
        }
        await fsp.rename(part, dest);
        return { path: dest, bytes, sha256, resumedFrom, alreadyPresent: false };
      } catch (err) {
        if (signal?.aborted) throw new DownloadError('ABORTED', `The download of ${url} was cancelled; ${part} is kept to resume.`);
        const retryable = err instanceof DownloadError ? err.code === 'NETWORK' || (err.code === 'HTTP' && (err.status ?? 0) >= 500) : false;
        if (!retryable || attempt >= retries) throw err;
        await sleep(Math.min(250 * 2 ** attempt, 4_000), signal);
      }
    }
  } finally {
    await release();
  }
}

async function existingFile(dest: string, expected: string | undefined): Promise<DownloadResult | undefined> {
  let st: fs.Stats;
  try {
    st = await fsp.stat(dest);
  } catch {
    return undefined;
  }
  const sha256 = await hashFile(dest);
  if (expected && sha256 !== expected) {
    throw new DownloadError(
      'CHECKSUM',
      `${dest} exists but its SHA-256 is ${sha256}, expected ${expected}. Delete it to download it again.`,
    );
  }
  return { path: dest, bytes: st.size, sha256, resumedFrom: st.size, alreadyPresent: true };
}

/** One HTTP request that appends to `part` from its current size. Returns the whole file's size if known. */
async function fetchIntoPart(url: string, part: string, opts: DownloadOptions): Promise<{ total?: number; startedAt: number }> {
  let offset = await sizeOf(part);
  const headers: Record<string, string> = { 'accept-encoding': 'identity' };
  if (offset > 0) headers.range = `bytes=${offset}-`;
  let res: Response;
  try {
    res = await fetch(url, { headers, signal: opts.signal, redirect: 'follow' });
  } catch (err) {
    throw new DownloadError('NETWORK', `Cannot reach ${url}: ${causeOf(err)}.`);
  }

  let total: number | undefined;
  if (res.status === 416 && offset > 0) {
    // Nothing left to fetch past our offset: `.part` may be whole already. The caller checks size and hash.
    await res.body?.cancel();
    const m = /\/(\d+)\s*$/.exec(res.headers.get('content-range') ?? '');
    total = m ? Number(m[1]) : undefined;
    if (total !== undefined && total !== offset) {
      await fsp.rm(part, { force: true }); // longer than the file: not ours to resume
      throw new DownloadError('NETWORK', `The partial download ${part} did not fit ${url}; it was discarded.`);
    }
    return { total: total ?? offset, startedAt: offset };
  }
  if (res.status !== 200 && res.status !== 206) {
    await res.body?.cancel();
    throw new DownloadError('HTTP', `${url} answered HTTP ${res.status} ${res.statusText}.`, res.status);
  }
  if (res.status === 206) {
    const m = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(res.headers.get('content-range') ?? '');
    if (!m || Number(m[1]) !== offset) {
      await res.body?.cancel();
      throw new DownloadError('NETWORK', `${url} answered a range request with an unexpected range "${res.headers.get('content-range')}".`);
    }
    if (m[3] !== '*') total = Number(m[3]);
  } else {
    // 200: the server sent the whole file (no Range support, or a fresh start): start over.
    offset = 0;
    const len = res.headers.get('content-length');
    if (len !== null) total = Number(len);
  }

  const fh = await fsp.open(part, offset > 0 ? 'a' : 'w');
  let received = offset;
  opts.onProgress?.({ received, total });
  try {
    if (!res.body) throw new DownloadError('NETWORK', `${url} sent no body.`);
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      await fh.write(chunk);
      received += chunk.byteLength;
      opts.onProgress?.({ received, total });
    }
  } catch (err) {
    if (err instanceof DownloadError) throw err;
    throw new DownloadError('NETWORK', `The connection to ${url} broke after ${received} bytes: ${causeOf(err)}.`);
  } finally {
    await fh.close();
  }
  return { total, startedAt: offset };
}

async function sizeOf(file: string): Promise<number> {
  try {
    return (await fsp.stat(file)).size;
  } catch {
    return 0;
  }
}

export async function hashFile(file: string): Promise<string> {
  const hash: Hash = createHash('sha256');
  for await (const chunk of fs.createReadStream(file, { highWaterMark: 1 << 20 })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** An O_EXCL lock file naming our pid; a lock whose process is gone is taken over. */
async function lockDownload(lockPath: string, url: string): Promise<() => Promise<void>> {
  for (let tries = 0; tries < 2; tries++) {
    try {
      const fh = await fsp.open(lockPath, 'wx');
      await fh.writeFile(JSON.stringify({ pid: process.pid, host: os.hostname(), url }));
      await fh.close();
      return () => fsp.rm(lockPath, { force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      let holder: { pid?: number; host?: string } = {};
      try {
        holder = JSON.parse(await fsp.readFile(lockPath, 'utf8')) as typeof holder;
      } catch {
        /* unreadable: treat as stale */
      }
      if (holder.pid && holder.host === os.hostname() && processAlive(holder.pid)) {
        throw new DownloadError('BUSY', `Another process (pid ${holder.pid}) is downloading ${url} (lock ${lockPath}).`);
      }
      await fsp.rm(lockPath, { force: true });
    }
  }
  throw new DownloadError('BUSY', `Cannot take the download lock ${lockPath}.`);
}

function causeOf(err: unknown): string {
  const e = err as { cause?: { code?: string; message?: string }; message?: string };
  return e?.cause?.code || e?.cause?.message || e?.message || String(err);
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(resolve, ms);
    signal?.addEventListener(
      'abort',
      () => {
        clearTimeout(t);
        reject(new DownloadError('ABORTED', 'The download was cancelled.'));
      },
      { once: true },
    );
  });
}
