// Starts a real PostgreSQL server with pgvector on loopback, in a temp folder, for tests and benchmarks.
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';

export interface PostgresServer {
  /** postgres://postgres@127.0.0.1:PORT/postgres */
  url: string;
  /** A login that must give its password (scram-sha-256): postgres://pm_pw_user@127.0.0.1:PORT/postgres. */
  passwordUser: { url: string; password: string };
  dataDir: string;
  stop(): Promise<void>;
}

const REPO = fs.existsSync(path.join(process.cwd(), 'scripts/setup-postgres.sh')) ? process.cwd() : path.resolve(__dirname, '../..');
const SERVER_USER = 'pmpg';
const PASSWORD_USER = 'pm_pw_user';

/** The server's bin folder; installs it with scripts/setup-postgres.sh the first time. */
export function postgresBinDir(): string {
  const out = execFileSync('bash', [path.join(REPO, 'scripts/setup-postgres.sh')], { cwd: REPO, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  return path.resolve(REPO, out.trim().split('\n').pop()!);
}

export async function startPostgres(): Promise<PostgresServer> {
  const bin = postgresBinDir();
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'pm-pg-'));
  const dataDir = path.join(root, 'data');
  const asRoot = process.getuid?.() === 0;
  if (asRoot) {
    fs.chmodSync(root, 0o755);
    execFileSync('chown', [SERVER_USER, root]);
  }
  // PostgreSQL will not run as root; run its tools as the unprivileged server user.
  const pgTool = (tool: string, args: string[]): void => {
    const cmd = asRoot ? 'runuser' : path.join(bin, tool);
    const full = asRoot ? ['-u', SERVER_USER, '--', path.join(bin, tool), ...args] : args;
    const res = spawnSync(cmd, full, { encoding: 'utf8' });
    if (res.status !== 0) throw new Error(`${tool} failed (${res.status}): ${res.stderr || res.stdout}`);
  };
  pgTool('initdb', ['-D', dataDir, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--no-sync', '--no-instructions']);
  // One login with password authentication (the first matching line wins), for the password tests.
  const hba = path.join(dataDir, 'pg_hba.conf');
  fs.writeFileSync(hba, `host all ${PASSWORD_USER} 127.0.0.1/32 scram-sha-256\n${fs.readFileSync(hba, 'utf8')}`);
  const port = await freePort();
  // fsync stays on: the bank's durability numbers must include the database's commit cost.
  pgTool('pg_ctl', ['-D', dataDir, '-l', path.join(root, 'server.log'), '-w', '-t', '60', '-o', `-h 127.0.0.1 -p ${port} -k ${root} -c max_connections=50`, 'start']);
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  const password = `pw-${Math.random().toString(36).slice(2)}`;
  const { default: pg } = await import('pg');
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  await admin.query(`CREATE ROLE ${PASSWORD_USER} LOGIN SUPERUSER PASSWORD '${password}'`);
  await admin.end();
  let stopped = false;
  return {
    url,
    passwordUser: { url: `postgres://${PASSWORD_USER}@127.0.0.1:${port}/postgres`, password },
    dataDir,
    stop: async () => {
      if (stopped) return;
      stopped = true;
      try {
        pgTool('pg_ctl', ['-D', dataDir, '-m', 'fast', '-w', 'stop']);
      } finally {
        fs.rmSync(root, { recursive: true, force: true });
      }
    },
  };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}
