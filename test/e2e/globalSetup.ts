// Picks the run folder once for all e2e test files and prints it first, so screenshots and
// server logs of a failed run are easy to find.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { REPO_ROOT, assertToolsInstalled, timestampForPath } from './harness';

export default function setup(): void {
  assertToolsInstalled();
  const dir = process.env.E2E_RUN_DIR ?? path.join(REPO_ROOT, '.test-output/e2e', timestampForPath(new Date()));
  fs.mkdirSync(dir, { recursive: true });
  process.env.E2E_RUN_DIR = dir; // inherited by the test fork
  console.log(`[e2e] run folder: ${path.relative(process.cwd(), dir) || dir}`);
}
