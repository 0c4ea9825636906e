// Runs once around all e2e test files, in vitest's main process: picks the run folder (printed
// first, so screenshots and logs of a failed run are easy to find) and the temp root; at the end
// kills any code-server a crashed test left running and removes the temp root.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { REPO_ROOT, assertToolsInstalled, killProcessGroup, tempRoot, timestampForPath } from './harness';

export default function setup(): () => void {
  assertToolsInstalled();
  const dir = process.env.E2E_RUN_DIR ?? path.join(REPO_ROOT, '.test-output/e2e', timestampForPath(new Date()));
  fs.mkdirSync(dir, { recursive: true });
  process.env.E2E_RUN_DIR = dir; // the test fork inherits both variables
  const temp = tempRoot();
  console.log(`[e2e] run folder: ${path.relative(process.cwd(), dir) || dir}`);

  return () => {
    const groups = path.join(temp, 'process-groups');
    for (const name of fs.existsSync(groups) ? fs.readdirSync(groups) : []) {
      if (killProcessGroup(Number(name), 'SIGKILL')) console.log(`[e2e] killed leftover process group ${name}`);
    }
    if (process.env.E2E_KEEP_TEMP) console.log(`[e2e] temp folders kept in ${temp}`);
    else fs.rmSync(temp, { recursive: true, force: true });
  };
}
