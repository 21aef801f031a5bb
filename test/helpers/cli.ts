import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../core/cli/main.js';
import { ROOT } from './shared.js';

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Run the CLI in-process, capturing stdout and stderr. */
export async function cli(argv: string[], opts: { signal?: AbortSignal } = {}): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  const code = await main(argv, {
    out: (s) => (stdout += s),
    err: (s) => (stderr += s),
    signal: opts.signal,
  });
  return { code, stdout, stderr };
}

export function tempDir(prefix = 'ftrun-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/**
 * Runs the real CLI (`bin/ftrun.js`, its own process) with `args`, and SIGKILLs it — no chance to
 * clean up — as soon as the run's events.jsonl records its `checkpoints`-th checkpoint (counting
 * those of earlier attempts). The run is `runDir`, or the one run under `runsDir/<experiment>/`
 * (then `--runs-dir runsDir` is added). Returns the run directory.
 */
export async function killAfterCheckpoint(args: string[], where: { runDir: string } | { runsDir: string; experiment: string }, checkpoints = 1): Promise<string> {
  const extra = 'runsDir' in where ? ['--runs-dir', where.runsDir] : [];
  const child = spawn(process.execPath, [join(ROOT, 'bin', 'ftrun.js'), ...args, ...extra, '--quiet'], { stdio: 'ignore' });
  const exited = new Promise<void>((res) => child.on('close', () => res()));
  let runDir = 'runDir' in where ? where.runDir : '';
  for (let i = 0; i < 2400 && child.exitCode === null; i++) {
    await new Promise((r) => setTimeout(r, 25));
    if (!runDir && 'runsDir' in where) {
      const parent = join(where.runsDir, where.experiment);
      // The experiment directory can exist a moment before the run directory inside it.
      const first = existsSync(parent) ? readdirSync(parent)[0] : undefined;
      if (first) runDir = join(parent, first);
    }
    const ev = runDir && join(runDir, 'events.jsonl');
    if (ev && existsSync(ev) && readFileSync(ev, 'utf8').split('"type":"checkpoint"').length - 1 >= checkpoints) {
      child.kill('SIGKILL');
      break;
    }
  }
  await exited;
  return runDir;
}

/** killAfterCheckpoint of a new run in `runsDir`, at its first checkpoint. */
export function killAfterFirstCheckpoint(args: string[], runsDir: string, experiment: string): Promise<string> {
  return killAfterCheckpoint(args, { runsDir, experiment });
}
