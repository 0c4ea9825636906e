// The memory tools in a real VS Code (code-server): the workbench reads the languageModelTools
// contribution, evaluates its `when` clause and routes vscode.lm.invokeTool to the extension.
// Agent mode itself needs a chat agent (Copilot) that code-server does not ship, so the tool is driven
// through vscode.lm.invokeTool from an extension-host suite instead.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT, makeTempDir, runExtensionHostSuite } from './harness';

describe('memory tools in code-server', () => {
  it('lists the five tools, returns a memory through vscode.lm.invokeTool, refuses calls when turned off', async () => {
    execFileSync(process.execPath, [path.join(REPO_ROOT, 'scripts/build.mjs')], { cwd: REPO_ROOT, stdio: 'inherit' });
    const outDir = makeTempDir('agent-tools-suite');
    const suite = path.join(outDir, 'agentTools.js');
    await build({
      entryPoints: [path.join(REPO_ROOT, 'test/vscode-electron/suite/agentTools.ts')],
      bundle: true,
      platform: 'node',
      format: 'cjs',
      target: 'node20',
      external: ['vscode'],
      outfile: suite,
      logLevel: 'warning',
    });
    const workspace = makeTempDir('agent-tools-ws');
    fs.writeFileSync(path.join(workspace, 'README.md'), '# test workspace\n');
    const result = await runExtensionHostSuite({ extensionDevelopmentPath: REPO_ROOT, extensionTestsPath: suite, workspace });
    const log = result.log.join('\n');
    expect(result.exitCode, log).toBe(0);
    expect(log).toMatch(/\b3 passed, 0 failed\b/);
    expect(log).toMatch(/memory_search result: .*The agent tools suite ran inside code-server on 2026-03-16\./);
    expect(log).toContain('invokeTool while off: Project Memory tools are turned off (projectMemory.tools.enabled).');
  });
});
