// Runs suite/index.ts inside an installed VS Code (never downloads one). Usage:
//   npm run test:vscode            (VSCODE_EXECUTABLE=/path/to/code overrides the search)
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { build } from 'esbuild';
import { runTests } from '@vscode/test-electron';

function candidates(): string[] {
  const home = os.homedir();
  const local = process.env.LOCALAPPDATA ?? path.join(home, 'AppData', 'Local');
  return [
    process.env.VSCODE_EXECUTABLE ?? '',
    '/usr/share/code/code',
    '/usr/lib/code/code',
    '/opt/visual-studio-code/code',
    '/snap/code/current/usr/share/code/code',
    '/usr/share/code-insiders/code-insiders',
    '/Applications/Visual Studio Code.app/Contents/MacOS/Electron',
    '/Applications/Visual Studio Code - Insiders.app/Contents/MacOS/Electron',
    path.join(local, 'Programs', 'Microsoft VS Code', 'Code.exe'),
    'C:\\Program Files\\Microsoft VS Code\\Code.exe',
  ].filter(Boolean);
}

async function main(): Promise<void> {
  const executable = candidates().find((p) => fs.existsSync(p));
  if (!executable) {
    console.log('no VS Code installed, skipping the VS Code integration suite (set VSCODE_EXECUTABLE to run it).');
    return;
  }
  const root = path.resolve(__dirname.includes('.cache') ? process.cwd() : path.join(__dirname, '..', '..'));
  if (!fs.existsSync(path.join(root, 'dist', 'extension.js'))) throw new Error('dist/extension.js is missing: run `npm run build` first.');
  const outDir = path.join(root, '.cache', 'vscode-electron');
  await build({
    entryPoints: [path.join(root, 'test', 'vscode-electron', 'suite', 'index.ts')],
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    external: ['vscode'],
    outfile: path.join(outDir, 'suite.js'),
    logLevel: 'warning',
  });
  const workspace = fs.mkdtempSync(path.join(os.tmpdir(), 'pm-electron-ws-'));
  fs.writeFileSync(path.join(workspace, 'README.md'), '# test workspace\n');
  const userData = fs.mkdtempSync(path.join(os.tmpdir(), 'pm-electron-user-'));
  try {
    await runTests({
      vscodeExecutablePath: executable,
      extensionDevelopmentPath: root,
      extensionTestsPath: path.join(outDir, 'suite.js'),
      launchArgs: [workspace, '--disable-extensions', '--disable-workspace-trust', `--user-data-dir=${userData}`, '--skip-welcome', '--skip-release-notes'],
    });
  } finally {
    fs.rmSync(workspace, { recursive: true, force: true });
    fs.rmSync(userData, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
