// Errors that were visible for a while and then disappeared from a file that is still open: a fix.
import { type DiagnosticInfo, formatDiagnosticFixedEvent } from '../eventFormat';
import type { CaptureSink, CaptureSource, RunningSource, WorkspaceHost } from './host';

interface OpenError extends DiagnosticInfo {
  since: number;
}

export const diagnosticsSource: CaptureSource = {
  id: 'diagnostics',
  start(host: WorkspaceHost, sink: CaptureSink): RunningSource {
    let running = true;
    const openErrors = new Map<string, Map<string, OpenError>>();
    const emitFixed = async (key: string, fixed: OpenError[], now: number) => {
      const doc = host.openDocument(key);
      const rel = doc ? await host.includedPath(doc) : undefined;
      if (rel === undefined || !running) return;
      sink('diagnostic', fixed.map((f) => formatDiagnosticFixedEvent({ ...f, relPath: rel }, now - f.since)).join('\n'), rel);
    };
    const onChange = (keys: string[]) => {
      if (!running) return;
      const now = Date.now();
      for (const key of keys) {
        const doc = host.openDocument(key);
        const current = new Map<string, OpenError>();
        for (const e of host.errorsIn(key)) {
          current.set(`${e.source ?? ''}|${e.code ?? ''}|${e.message}`, { relPath: '', line: e.line, message: e.message, source: e.source, code: e.code, since: now });
        }
        const prev = openErrors.get(key) ?? new Map<string, OpenError>();
        const fixed: OpenError[] = [];
        for (const [k, err] of prev) {
          if (current.has(k)) current.set(k, { ...current.get(k)!, since: err.since });
          else if (now - err.since >= host.timings.diagnosticMinOpenMs) fixed.push(err);
        }
        if (current.size) openErrors.set(key, current);
        else openErrors.delete(key);
        // Closing a file clears its diagnostics in many language servers: that is not a fix.
        if (fixed.length && doc && host.switches().diagnostics) void emitFixed(key, fixed, now);
      }
    };
    const sub = host.onDiagnostics(onChange);
    onChange(host.filesWithDiagnostics());
    return {
      dispose() {
        running = false;
        sub.dispose();
      },
    };
  },
};
