// The capture sources, each in its own file behind WorkspaceHost. To add a source: one file here and one
// line in this list (and its switch in CaptureSwitches and the settings).
import { commitsSource } from './commits';
import { diagnosticsSource } from './diagnostics';
import { savesSource } from './saves';
import { terminalSource } from './terminal';
import type { CaptureSource } from './host';

export const CAPTURE_SOURCES: readonly CaptureSource[] = [savesSource, commitsSource, terminalSource, diagnosticsSource];

export { commitsSource, diagnosticsSource, savesSource, terminalSource };
export type { CaptureSink, CaptureSource, CaptureSwitches, CaptureTimings, HostDisposable, HostDocument, HostError, HostTerminalRun, RunningSource, WorkspaceHost } from './host';
export { DEFAULT_TIMINGS } from './host';
