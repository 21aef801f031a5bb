/**
 * `ftrun resume <run-dir>`: continue an interrupted or failed run in its own directory, from the
 * config it recorded (resolved.yaml) — training restarts from its latest checkpoint, evaluations
 * are redone.
 */
import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { redactedPaths, REDACTED } from '../config/output.js';
import { formatPath } from '../config/path.js';
import { validateConfig } from '../config/validate.js';
import { UserError } from '../errors.js';
import { runExperiment } from '../run/runner.js';
import { prepare, type IO } from './run.js';

export interface ResumeArgs {
  runDir: string;
  json: boolean;
  quiet: boolean;
  verbose: boolean;
  argv: string[];
}

export async function resumeCommand(args: ResumeArgs, io: IO): Promise<number> {
  const runDir = resolve(args.runDir);
  const resolvedFile = join(runDir, 'resolved.yaml');
  const envFile = join(runDir, 'env.json');
  if (!existsSync(resolvedFile) || !existsSync(envFile)) {
    throw new UserError('E_RUN', `${args.runDir}: not a run directory (expected resolved.yaml and env.json in it)`);
  }
  let env: { status?: string; run_id?: string; config_file?: string; base_dir?: string };
  try {
    env = JSON.parse(readFileSync(envFile, 'utf8')) as typeof env;
    if (typeof env !== 'object' || env === null || Array.isArray(env)) throw new Error('not a JSON object');
  } catch (e) {
    throw new UserError('E_RUN', `${envFile}: cannot resume: the run's env.json is damaged (${e instanceof SyntaxError ? 'not valid JSON' : (e as Error).message}); the run cannot be continued, start a new one`);
  }
  if (env.status === 'ok') {
    throw new UserError('E_RUN', `${args.runDir}: this run finished (status ok); nothing to resume. Start a new run with: ftrun <config>`);
  }
  const { loaded, registry } = await prepare(resolvedFile, []);
  const lost = redactedPaths(loaded.data);
  if (lost.length > 0) {
    const shown = lost.map((p) => formatPath(p)).join(', ');
    throw new UserError(
      'E_RUN',
      `${args.runDir}: cannot resume: ${shown} ${lost.length > 1 ? 'were' : 'was'} written into the experiment file literally, so resolved.yaml records ${lost.length > 1 ? 'them' : 'it'} redacted ("${REDACTED}"). ` +
        'Give secrets as ${env:NAME} (resolved.yaml then records the reference and resume re-reads the environment), and start a new run',
    );
  }
  const config = validateConfig(loaded, registry);
  if (!args.quiet) io.err(`resume ${config.name} (${env.status ?? 'unknown'}) → ${runDir}\n`);
  const summary = await runExperiment({
    loaded,
    config,
    registry,
    runDir,
    runId: env.run_id ?? basename(runDir),
    argv: args.argv,
    log: { quiet: args.quiet, verbose: args.verbose, write: io.err },
    signal: io.signal,
    resume: true,
    // relative paths in resolved.yaml are as written in the original experiment file: resolve them
    // where the first attempt did, and keep recording that file (so any number of resumes work)
    baseDir: env.base_dir ?? (env.config_file && env.config_file !== resolvedFile ? dirname(env.config_file) : dirname(resolvedFile)),
    ...(env.config_file ? { configFile: env.config_file } : {}),
  });
  if (args.json) {
    io.out(JSON.stringify({ run_dir: summary.runDir, name: summary.name, status: summary.status, primary: summary.primary, models: summary.models, delta: summary.delta, training: summary.training }, null, 2) + '\n');
  }
  return summary.status === 'ok' ? 0 : 1;
}
