// UI idioms the extension's surfaces share.
import type * as vscode from 'vscode';

/**
 * Runs `fn` with an AbortSignal that aborts when `token` is cancelled (progress notifications, chat
 * requests, language model calls), and always disposes the token's listener afterwards.
 */
export async function withAbortSignal<T>(token: vscode.CancellationToken, fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const abort = new AbortController();
  if (token.isCancellationRequested) abort.abort();
  const sub = token.onCancellationRequested(() => abort.abort());
  try {
    return await fn(abort.signal);
  } finally {
    sub.dispose();
  }
}
