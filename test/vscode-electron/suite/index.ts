// Runs inside VS Code (desktop through @vscode/test-electron, or code-server): only the `vscode` API
// and node's assert, no test framework.
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';

const EXTENSION_ID = 'project-memory.project-memory';

interface Case {
  name: string;
  fn: () => Promise<void>;
}

const cases: Case[] = [
  {
    name: 'activates and contributes its commands, view and chat participant',
    fn: async () => {
      const ext = vscode.extensions.getExtension(EXTENSION_ID);
      assert.ok(ext, `extension ${EXTENSION_ID} is installed`);
      await ext.activate();
      const commands = await vscode.commands.getCommands(true);
      for (const c of ['addMemory', 'search', 'forget', 'showHistory', 'undo', 'export', 'import', 'clear', 'rebuildIndex', 'scrubSecrets', 'pauseCapture', 'resumeCapture', 'configureEndpoint', 'useBuiltInModel', 'setApiKey', 'showLog', 'revealMemory']) {
        assert.ok(commands.includes(`projectMemory.${c}`), `command projectMemory.${c} registered`);
      }
      const pkg = ext.packageJSON as { contributes: { chatParticipants: { id: string }[]; views: Record<string, { id: string }[]> } };
      assert.equal(pkg.contributes.chatParticipants[0].id, 'project-memory.memory');
      assert.equal(pkg.contributes.views.projectMemory[0].id, 'projectMemory.panel');
    },
  },
  {
    name: 'adds a memory, forgets it and undoes the forget',
    fn: async () => {
      const id = await vscode.commands.executeCommand<string>('projectMemory.addMemory', 'The integration suite ran inside VS Code');
      assert.equal(typeof id, 'string');
      assert.equal(await vscode.commands.executeCommand('projectMemory.forget', id), id);
      const undone = await vscode.commands.executeCommand<number>('projectMemory.undo');
      assert.equal(undone, 1);
    },
  },
  {
    name: 'opens the Memories view',
    fn: async () => {
      await vscode.commands.executeCommand('projectMemory.panel.focus');
      await vscode.commands.executeCommand('projectMemory.revealMemory');
    },
  },
  {
    name: 'pauses and resumes capture',
    fn: async () => {
      await vscode.commands.executeCommand('projectMemory.pauseCapture');
      await vscode.commands.executeCommand('projectMemory.resumeCapture');
    },
  },
];

export async function run(): Promise<void> {
  const failures: string[] = [];
  for (const c of cases) {
    try {
      await c.fn();
      console.log(`  ✓ ${c.name}`);
    } catch (err) {
      failures.push(c.name);
      console.error(`  ✗ ${c.name}\n    ${err instanceof Error ? err.stack ?? err.message : String(err)}`);
    }
  }
  console.log(`${cases.length - failures.length} passed, ${failures.length} failed`);
  if (failures.length) throw new Error(`${failures.length} VS Code integration test(s) failed: ${failures.join('; ')}`);
}
