import * as fs from 'node:fs';
import * as path from 'node:path';
import { redactSecrets } from '../src/core/privacy/redact';
function walk(d: string, out: string[]) { for (const e of fs.readdirSync(d, { withFileTypes: true })) { const p = path.join(d, e.name); if (e.isDirectory()) { if (!['.git','.cache','fixtures'].includes(e.name)) walk(p, out); } else if (/\.(ts|js|mjs|json|md|py|sh|yml|yaml|toml|txt|css|html)$/.test(e.name)) out.push(p); } }
const roots = process.argv.slice(2);
const files: string[] = []; for (const r of roots) walk(r, files);
let chars = 0, n = 0;
for (const f of files) { if (f.includes('privacy') || fs.statSync(f).size > 400000) continue; const t = fs.readFileSync(f, 'utf8'); chars += t.length; const r = redactSecrets(t); for (const x of r.findings) { n++; console.log(`${f}: [${x.kind}] ${JSON.stringify(t.slice(Math.max(0,x.start-40), x.end+10))}`); } }
console.log(`files ${files.length} chars ${chars} findings ${n}`);
