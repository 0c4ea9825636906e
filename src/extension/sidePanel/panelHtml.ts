// The side panel's HTML shell. Pure (no `vscode`), so the browser test loads exactly this page.
import { randomBytes } from 'node:crypto';

export interface PanelHtmlParts {
  /** `webview.cspSource`: the origin local resources are served from. */
  cspSource: string;
  scriptUri: string;
  styleUri: string;
  codiconUri: string;
  nonce?: string;
  /** `vscode.l10n.bundle`: the page's translations (undefined in English); the page reads them from #app. */
  l10n?: Record<string, string>;
  /** `vscode.env.language`, for `<html lang>`. */
  language?: string;
}

export function makeNonce(): string {
  return randomBytes(18).toString('base64').replace(/[^A-Za-z0-9]/g, '');
}

export function contentSecurityPolicy(cspSource: string, nonce: string): string {
  return [
    "default-src 'none'",
    `script-src 'nonce-${nonce}'`,
    `style-src ${cspSource}`,
    `font-src ${cspSource}`,
    `img-src ${cspSource} data:`,
  ].join('; ');
}

const attr = (s: string): string => s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

export function panelHtml(parts: PanelHtmlParts): string {
  const nonce = parts.nonce ?? makeNonce();
  return `<!DOCTYPE html>
<html lang="${attr(parts.language || 'en')}">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${attr(contentSecurityPolicy(parts.cspSource, nonce))}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="${attr(parts.codiconUri)}">
<link rel="stylesheet" href="${attr(parts.styleUri)}">
<title>Project Memory</title>
</head>
<body>
<div id="app"${parts.l10n ? ` data-l10n="${attr(JSON.stringify(parts.l10n))}"` : ''}></div>
<script nonce="${nonce}" src="${attr(parts.scriptUri)}"></script>
</body>
</html>`;
}
