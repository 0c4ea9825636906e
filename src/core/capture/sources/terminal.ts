// Terminal commands that failed, with the tail of their output. Trivial commands and commands that simply
// succeeded are transient output (see isCapturedCommand); commands outside the workspace are not the project's.
import { formatTerminalEvent, isCapturedCommand } from '../eventFormat';
import type { CaptureSink, CaptureSource, RunningSource, WorkspaceHost } from './host';

const MAX_OUTPUT_CHARS = 16 * 1024;

export const terminalSource: CaptureSource = {
  id: 'terminal',
  start(host: WorkspaceHost, sink: CaptureSink): RunningSource {
    let running = true;
    const output = new WeakMap<object, { text: string }>();
    const subs = [
      host.onTerminalStart?.((run) => {
        const buf = { text: '' };
        output.set(run.id, buf);
        if (!run.read) return;
        void (async () => {
          try {
            for await (const data of run.read!()) buf.text = (buf.text + data).slice(-MAX_OUTPUT_CHARS);
          } catch {
            /* the terminal went away */
          }
        })();
      }),
      host.onTerminalEnd?.((run, exitCode) => {
        if (!running || !host.switches().terminal || run.outside) return;
        if (!isCapturedCommand(run.commandLine, exitCode)) return;
        const text = exitCode ? output.get(run.id)?.text : undefined;
        sink('terminal', formatTerminalEvent(run.commandLine, exitCode, run.cwd, text), run.cwd);
      }),
    ].filter((d): d is NonNullable<typeof d> => !!d);
    return {
      dispose() {
        running = false;
        for (const s of subs) s.dispose();
      },
    };
  },
};
