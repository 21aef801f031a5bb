/**
 * The context a run lends its plugins (paths resolved against the experiment file, logging,
 * progress, the abort signal): built the same way by a run (core/run/runner.ts) and by commands
 * that run one stage's plugin outside a run (ftrun dataset generate).
 */
import type { LoadedConfig } from '../config/load.js';
import { baseDirOf, resolveIn } from '../config/located.js';
import { makeLogger, makeProgress, type LogOptions } from '../log.js';
import type { RunContext } from '../types.js';

export interface RunContextOptions {
  runDir: string;
  runId: string;
  seed: number;
  log: LogOptions;
  signal: AbortSignal;
  resumed?: boolean;
  trial?: RunContext['trial'];
}

export function makeRunContext(loaded: LoadedConfig, o: RunContextOptions): RunContext {
  return {
    configFile: loaded.file,
    baseDir: baseDirOf(loaded),
    runDir: o.runDir,
    runId: o.runId,
    ...(o.resumed !== undefined ? { resumed: o.resumed } : {}),
    seed: o.seed,
    logger: makeLogger(o.log),
    progress: makeProgress(o.log),
    write: o.log.write ?? ((s) => void process.stderr.write(s)),
    quiet: o.log.quiet,
    signal: o.signal,
    resolvePath: (p) => resolveIn(loaded, p),
    ...(o.trial ? { trial: o.trial } : {}),
  };
}
