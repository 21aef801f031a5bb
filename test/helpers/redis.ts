/**
 * A real redis-server for the queue tests, on a free loopback port in a temporary directory, and
 * the CLI as its own process (`bin/ftrun.js`) with its output collected. REDIS is empty where
 * redis-server is not installed: the tests then skip, printing why.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { tempDir } from './cli.js';
import { ROOT } from './shared.js';

export const REDIS = spawnSync('sh', ['-c', 'command -v redis-server'], { encoding: 'utf8' }).stdout.trim();
if (!REDIS) console.warn('skipping the queue tests: redis-server is not installed (apt-get install redis-server)');

export const BIN = join(ROOT, 'bin', 'ftrun.js');

/** A loopback port nothing listens on (at the time of asking). */
export const freePort = () =>
  new Promise<number>((res) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => res(port));
    });
  });

export interface TestRedis {
  port: number;
  /** redis://127.0.0.1:<port> (no credentials). */
  url: string;
  /** Kill it (SIGKILL), and wait until it is gone. */
  stop(): Promise<void>;
  /** Start it again, on the same port and directory, and wait until it answers. */
  start(): Promise<void>;
}

/** redis-server on a free port; `args` are more redis-server options (e.g. --requirepass PW). */
export async function startRedis(args: string[] = [], port?: number): Promise<TestRedis> {
  const p = port ?? (await freePort());
  const dir = tempDir('ftrun-redis-');
  let server: ChildProcess | undefined;
  const auth = args.includes('--requirepass') ? ['-a', args[args.indexOf('--requirepass') + 1]!, '--no-auth-warning'] : [];
  const redis: TestRedis = {
    port: p,
    url: `redis://127.0.0.1:${p}`,
    async stop() {
      if (!server || server.exitCode !== null || server.signalCode !== null) return;
      const gone = new Promise<void>((res) => server!.once('exit', () => res()));
      server.kill('SIGKILL');
      await gone;
    },
    async start() {
      server = spawn(REDIS, ['--port', String(p), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no', ...args], { stdio: 'ignore' });
      for (let i = 0; i < 400; i++) {
        if (spawnSync('redis-cli', ['-p', String(p), ...auth, 'ping'], { encoding: 'utf8' }).stdout.trim() === 'PONG') return;
        await new Promise((r) => setTimeout(r, 50));
      }
      throw new Error(`redis-server on port ${p} did not answer`);
    },
  };
  await redis.start();
  return redis;
}

/** The CLI as its own process: its output so far, and its end. */
export interface CliProcess {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  done: Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>;
  /** Resolves once stderr contains `text` (rejects when the process ended without it). */
  waitFor(text: string | RegExp): Promise<void>;
}

export function ftrun(args: string[], opts: { cwd?: string; env?: Record<string, string | undefined> } = {}): CliProcess {
  const child = spawn(process.execPath, [BIN, ...args], { cwd: opts.cwd, env: { ...process.env, ...opts.env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  const waiters: Array<() => void> = [];
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => {
    stderr += d.toString();
    for (const w of [...waiters]) w();
  });
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>((res) => child.on('close', (code, signal) => res({ code, signal, stdout, stderr })));
  return {
    child,
    stdout: () => stdout,
    stderr: () => stderr,
    done,
    waitFor: (text) =>
      new Promise<void>((res, rej) => {
        const seen = () => (typeof text === 'string' ? stderr.includes(text) : text.test(stderr));
        const check = () => {
          if (!seen()) return;
          waiters.splice(waiters.indexOf(check), 1);
          res();
        };
        if (seen()) return res();
        waiters.push(check);
        void done.then((r) => (seen() ? res() : rej(new Error(`ftrun ${args.join(' ')} ended (${r.code ?? r.signal}) without printing ${String(text)}; its stderr:\n${r.stderr}`))));
      }),
  };
}
