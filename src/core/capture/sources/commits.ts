// Git commits, also those made in a terminal or another tool: each new commit once (the last seen HEAD is
// kept in workspace state), never the history that was there before capture first looked.
import { formatCommitEvent } from '../eventFormat';
import type { CaptureSink, CaptureSource, RunningSource, WorkspaceHost } from './host';

export interface RunningCommits extends RunningSource {
  /** Captures the commits made since the last check of `root` (checks of one root run one after another). */
  check(root: string): Promise<void>;
}

export const commitsSource: CaptureSource<RunningCommits> = {
  id: 'commits',
  start(host: WorkspaceHost, sink: CaptureSink): RunningCommits {
    let running = true;
    const timers = new Map<string, NodeJS.Timeout>();
    const checking = new Map<string, Promise<void>>();
    const doCheck = async (root: string) => {
      if (!running) return;
      const head = await host.gitHead(root);
      if (!head) return;
      const key = `projectMemory.git.${root}`;
      const seen = host.state.get<{ head: string; checkedAt: number; captured: string[] }>(key);
      if (!seen) {
        // First look at this repository: remember where it is, do not replay its whole history.
        await host.state.update(key, { head, checkedAt: Date.now(), captured: [] });
        return;
      }
      if (seen.head === head) return;
      const captured = new Set(seen.captured);
      const commits = host.switches().commits ? await host.newCommits(root, seen.head, new Date(seen.checkedAt - 60_000)) : [];
      for (const c of commits) {
        if (captured.has(c.sha)) continue;
        captured.add(c.sha);
        const files = c.files.filter((line) => !host.isExcluded(line.split('|')[0].trim()));
        sink('commit', formatCommitEvent({ ...c, files }), c.sha);
      }
      await host.state.update(key, { head, checkedAt: Date.now(), captured: [...captured].slice(-200) });
    };
    const check = (root: string): Promise<void> => {
      const next = (checking.get(root) ?? Promise.resolve()).then(() => doCheck(root));
      checking.set(root, next.catch(() => undefined));
      return next;
    };
    const schedule = (root: string) => {
      if (!running) return;
      clearTimeout(timers.get(root));
      const t = setTimeout(() => {
        timers.delete(root);
        void check(root).catch((err) => host.warn(`Checking commits in ${root} failed: ${String(err)}`));
      }, host.timings.commitDebounceMs);
      t.unref?.();
      timers.set(root, t);
    };
    const subs = host.onGitChange(schedule);
    for (const root of host.gitRoots()) void check(root).catch((err) => host.warn(`Checking commits in ${root} failed: ${String(err)}`));
    return {
      check,
      dispose() {
        running = false;
        for (const s of subs) s.dispose();
        for (const t of timers.values()) clearTimeout(t);
        timers.clear();
      },
    };
  },
};
