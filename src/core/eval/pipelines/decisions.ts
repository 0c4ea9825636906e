// Each memory pipeline's decisions per event, one JSON line per event in `<bank folder>/decisions.jsonl`,
// so bench/mem0-faithfulness.ts can compare them fact by fact with real Mem0's (whose own SQLite history
// is exported beside them).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { readAppendedJsonLines } from '../../util/atomicFile';

export const DECISIONS_FILE = 'decisions.jsonl';

export interface DecisionOp {
  /** ADD, UPDATE, DELETE or NOOP (Mem0's NONE); SKIP = a fact dropped as an exact duplicate before any call. */
  type: string;
  /** The memory text written (ADD / UPDATE), or the fact. */
  text?: string;
  /** The text of the memory an UPDATE / DELETE / NOOP aimed at. */
  target?: string;
}

export interface EventDecisions {
  event: number;
  diaIds: string[];
  /** The facts the pipeline extracted from the event (real Mem0: the memories its extraction wrote). */
  facts: string[];
  ops: DecisionOp[];
}

/** Appends one event's decisions; an event fed again after an interruption appears twice, the last line wins. */
export function recordDecisions(folder: string, d: EventDecisions): void {
  fs.appendFileSync(path.join(folder, DECISIONS_FILE), JSON.stringify(d) + '\n');
}

export function readDecisions(folder: string): Map<number, EventDecisions> {
  const file = path.join(folder, DECISIONS_FILE);
  return new Map(readAppendedJsonLines<EventDecisions>(file).map((d) => [d.event, d]));
}
