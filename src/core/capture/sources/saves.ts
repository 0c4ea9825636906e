// File saves: the changed region of a saved file (against the text it had when opened or last saved),
// debounced so a burst of saves (format on save, auto save) is one event. Whitespace-only changes are not events.
import { formatSaveEvent, isWhitespaceOnlyChange, summarizeChange } from '../eventFormat';
import type { CaptureSink, CaptureSource, HostDocument, RunningSource, WorkspaceHost } from './host';

const MAX_BASELINE_CHARS = 256 * 1024;
const MAX_BASELINES = 300;

export const savesSource: CaptureSource = {
  id: 'saves',
  start(host: WorkspaceHost, sink: CaptureSink): RunningSource {
    const baselines = new Map<string, string>();
    const timers = new Map<string, { timer: NodeJS.Timeout; doc: HostDocument }>();
    let running = true;
    const remember = (doc: HostDocument) => {
      if (!doc.path) return;
      const text = doc.getText();
      if (text.length > MAX_BASELINE_CHARS) return;
      baselines.delete(doc.key);
      baselines.set(doc.key, text);
      if (baselines.size > MAX_BASELINES) baselines.delete(baselines.keys().next().value as string);
    };
    const capture = async (doc: HostDocument) => {
      if (!running || !doc.path) return;
      const rel = await host.includedPath(doc);
      if (rel === undefined) return;
      let text: string;
      try {
        text = doc.isClosed ? host.readFile(doc.path) : doc.getText();
      } catch {
        return;
      }
      if (text.length > MAX_BASELINE_CHARS) return;
      const before = baselines.get(doc.key);
      const change = summarizeChange(before, text);
      baselines.set(doc.key, text);
      if ((change.added === 0 && change.removed === 0) || isWhitespaceOnlyChange(before, text)) return;
      sink('save', formatSaveEvent(rel, doc.languageId, change, before === undefined), rel);
    };
    for (const doc of host.openDocuments()) remember(doc);
    const subs = [
      host.onDidOpen(remember),
      host.onDidClose((d) => baselines.delete(d.key)),
      host.onDidSave((doc) => {
        if (!doc.path || !host.switches().saves) return;
        clearTimeout(timers.get(doc.key)?.timer);
        const timer = setTimeout(() => {
          timers.delete(doc.key);
          void capture(doc).catch((err) => host.warn(`Capturing a save of ${doc.path} failed: ${String(err)}`));
        }, host.timings.saveDebounceMs);
        timer.unref?.();
        timers.set(doc.key, { timer, doc });
      }),
    ];
    return {
      async flush() {
        const pending = [...timers.values()];
        for (const p of pending) clearTimeout(p.timer);
        timers.clear();
        await Promise.all(pending.map((p) => capture(p.doc)));
      },
      dispose() {
        running = false;
        for (const s of subs) s.dispose();
        for (const p of timers.values()) clearTimeout(p.timer);
        timers.clear();
      },
    };
  },
};
