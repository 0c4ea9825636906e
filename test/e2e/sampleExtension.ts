// A small throwaway extension generated into a temp folder and packaged with the project's vsce,
// so the harness is proven on something real before the product extension is packaged. It has
// the same moving parts: activation, a palette command with a notification, a webview view in
// its own activity-bar container, and extension-host suites (one passing, one failing).
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { REPO_ROOT, makeTempDir } from './harness';

const execFileAsync = promisify(execFile);

export const SAMPLE = {
  id: 'e2e-harness.e2e-sample',
  commandTitle: 'E2E Sample: Say Hello',
  notificationText: 'Hello from the E2E sample',
  statusBarText: 'E2E sample active',
  viewTitle: 'Sample Panel',
  webviewHeading: 'The sample webview renders',
} as const;

export interface SampleExtension {
  /** Unpacked extension folder (extensionDevelopmentPath). */
  folder: string;
  /** The packaged extension. */
  vsix: string;
  /** A suite whose run() asserts through the vscode API and passes. */
  passingSuite: string;
  /** A suite whose run() fails an assertion. */
  failingSuite: string;
}

const manifest = {
  name: 'e2e-sample',
  displayName: 'E2E Sample',
  description: 'Throwaway extension that proves the end-to-end harness.',
  version: '0.0.1',
  publisher: 'e2e-harness',
  license: 'MIT',
  engines: { vscode: '^1.90.0' },
  main: './extension.js',
  activationEvents: ['onStartupFinished'],
  contributes: {
    commands: [{ command: 'e2eSample.sayHello', title: 'Say Hello', category: 'E2E Sample' }],
    viewsContainers: {
      activitybar: [{ id: 'e2eSample', title: 'E2E Sample', icon: 'media/icon.svg' }],
    },
    views: {
      e2eSample: [{ type: 'webview', id: 'e2eSample.panel', name: SAMPLE.viewTitle }],
    },
  },
};

const extensionSource = `'use strict';
const vscode = require('vscode');

let greetings = 0;

function activate(context) {
  const status = vscode.window.createStatusBarItem(vscode.StatusBarAlignment.Left, 1000);
  status.text = ${JSON.stringify(SAMPLE.statusBarText)};
  status.show();
  context.subscriptions.push(status);

  context.subscriptions.push(
    vscode.commands.registerCommand('e2eSample.sayHello', () => {
      greetings += 1;
      // Not awaited: the message's promise settles only when the toast is dismissed.
      void vscode.window.showInformationMessage(${JSON.stringify(SAMPLE.notificationText)} + ' #' + greetings);
      return greetings;
    }),
    vscode.window.registerWebviewViewProvider('e2eSample.panel', {
      resolveWebviewView(view) {
        view.webview.options = { enableScripts: false };
        const folder = vscode.workspace.workspaceFolders?.[0]?.name ?? 'no folder';
        view.webview.html = \`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src \${view.webview.cspSource} 'unsafe-inline';">
<style>
  body { color: var(--vscode-foreground); background: var(--vscode-sideBar-background); font-family: var(--vscode-font-family); }
  .card { border: 1px solid var(--vscode-panel-border); padding: 8px; border-radius: 4px; }
</style>
</head>
<body>
  <h2 id="heading">${SAMPLE.webviewHeading}</h2>
  <div class="card">Workspace: <span id="folder">\${folder}</span></div>
</body>
</html>\`;
      },
    }),
  );
  return { greetings: () => greetings };
}

function deactivate() {}

module.exports = { activate, deactivate };
`;

const icon = `<svg xmlns="http://www.w3.org/2000/svg" width="24" height="24" viewBox="0 0 24 24"><circle cx="12" cy="12" r="8" fill="none" stroke="currentColor" stroke-width="2"/></svg>\n`;

/** Passing suite: activation, command registration and command result through the real API. */
const passingSuiteSource = `'use strict';
const assert = require('node:assert/strict');
const vscode = require('vscode');

exports.run = async function run() {
  const extension = vscode.extensions.getExtension(${JSON.stringify(SAMPLE.id)});
  assert.ok(extension, 'the sample extension is loaded');
  const api = await extension.activate();
  assert.equal(extension.isActive, true);

  const commands = await vscode.commands.getCommands(true);
  assert.ok(commands.includes('e2eSample.sayHello'), 'the command is registered');

  const greetingsBefore = api.greetings();
  const returned = await vscode.commands.executeCommand('e2eSample.sayHello');
  assert.equal(returned, greetingsBefore + 1, 'the command ran in this extension host');
  assert.equal(api.greetings(), greetingsBefore + 1);

  const folders = vscode.workspace.workspaceFolders ?? [];
  assert.equal(folders.length, 1, 'one workspace folder is open');
  const marker = await vscode.workspace.fs.readFile(vscode.Uri.joinPath(folders[0].uri, 'marker.txt'));
  assert.equal(new TextDecoder().decode(marker).trim(), 'e2e workspace');
  console.log('sample suite: all assertions passed');
};
`;

/** Failing suite: a real assertion that does not hold, so a non-zero exit code must come back. */
const failingSuiteSource = `'use strict';
const assert = require('node:assert/strict');
const vscode = require('vscode');

exports.run = async function run() {
  const extension = vscode.extensions.getExtension(${JSON.stringify(SAMPLE.id)});
  assert.ok(extension, 'the sample extension is loaded');
  console.log('failing suite: about to assert something false');
  assert.equal(vscode.workspace.workspaceFolders?.length ?? 0, 42, 'deliberately wrong folder count');
};
`;

/** Writes the sample extension into a temp folder and packages it with the project's vsce. */
export async function buildSampleExtension(): Promise<SampleExtension> {
  const root = makeTempDir('sample');
  const folder = path.join(root, 'e2e-sample');
  fs.mkdirSync(path.join(folder, 'media'), { recursive: true });
  fs.mkdirSync(path.join(folder, 'suite'), { recursive: true });
  fs.writeFileSync(path.join(folder, 'package.json'), JSON.stringify(manifest, null, 2));
  fs.writeFileSync(path.join(folder, 'extension.js'), extensionSource);
  fs.writeFileSync(path.join(folder, 'media/icon.svg'), icon);
  fs.writeFileSync(path.join(folder, 'README.md'), '# E2E Sample\n\nGenerated by test/e2e/sampleExtension.ts.\n');
  fs.writeFileSync(path.join(folder, 'LICENSE'), 'MIT License\n\nGenerated test fixture.\n');
  fs.writeFileSync(path.join(folder, '.vscodeignore'), 'suite/**\n');
  const passingSuite = path.join(folder, 'suite/passing.js');
  const failingSuite = path.join(folder, 'suite/failing.js');
  fs.writeFileSync(passingSuite, passingSuiteSource);
  fs.writeFileSync(failingSuite, failingSuiteSource);

  const vsix = path.join(root, 'e2e-sample-0.0.1.vsix');
  await packageExtension(folder, vsix);
  return { folder, vsix, passingSuite, failingSuite };
}

/** `vsce package` from the project's devDependencies, run under the project's Node. */
export async function packageExtension(extensionFolder: string, outFile: string): Promise<void> {
  const bin = path.join(REPO_ROOT, 'node_modules/.bin');
  await execFileAsync(
    path.join(bin, 'vsce'),
    ['package', '--no-dependencies', '--allow-missing-repository', '--skip-license', '--out', outFile],
    {
      cwd: extensionFolder,
      env: { ...process.env, PATH: `${bin}${path.delimiter}${process.env.PATH ?? ''}` },
      timeout: 120_000,
      maxBuffer: 16 * 1024 * 1024,
    },
  );
  if (!fs.existsSync(outFile)) throw new Error(`vsce did not write ${outFile}`);
}

/** A workspace folder with a marker file the passing suite reads back. */
export function makeSampleWorkspace(): string {
  const workspace = makeTempDir('workspace');
  fs.writeFileSync(path.join(workspace, 'marker.txt'), 'e2e workspace\n');
  fs.writeFileSync(path.join(workspace, 'README.md'), '# A workspace opened by the e2e harness\n');
  return workspace;
}
