/**
 * `ftrun validate <config>`: every problem of the experiment (and of each sweep trial) at once,
 * without loading a model or data beyond the first records; `ftrun plan <config>`: the resolved
 * config, and every sweep trial with its overrides (secrets redacted).
 */
import { redactConfig } from '../config/output.js';
import { hasSweep } from '../config/sweep.js';
import { formatTrialOverrides, toYaml, validateConfig, validateTrials } from '../config/validate.js';
import type { IO } from './run.js';
import { prepare } from './prepare.js';

export interface ValidateArgs {
  file: string;
  sets: string[];
  json: boolean;
}

/** The validated config and trials of `file` (throws the UserError listing every problem). */
async function validated(args: ValidateArgs) {
  const { loaded, registry } = await prepare(args.file, args.sets);
  const trials = hasSweep(loaded) ? validateTrials(loaded, registry) : [];
  const config = trials.length ? trials[0]!.config : validateConfig(loaded, registry);
  return { loaded, trials, config };
}

export async function validateCommand(args: ValidateArgs, io: IO): Promise<number> {
  const { loaded, trials } = await validated(args);
  if (args.json) io.out(JSON.stringify({ valid: true, file: loaded.file, trials: trials.length || 1 }) + '\n');
  else io.err(`${args.file}: valid${trials.length ? ` (sweep of ${trials.length} trials)` : ''}\n`);
  return 0;
}

export async function planCommand(args: ValidateArgs, io: IO): Promise<number> {
  const { loaded, trials, config } = await validated(args);
  if (args.json) {
    const out = { config: redactConfig(config, loaded), trials: trials.map((t) => ({ index: t.index, overrides: t.overrides, config: redactConfig(t.config, t.loaded) })) };
    io.out(JSON.stringify(out, null, 2) + '\n');
    return 0;
  }
  if (!trials.length) io.out(toYaml(redactConfig(config, loaded) as Record<string, unknown>));
  else {
    io.out(`# sweep: ${trials.length} trials\n`);
    for (const t of trials) io.out(`\n# --- trial ${t.index}/${trials.length}: ${formatTrialOverrides(t.overrides)}\n${toYaml(redactConfig(t.config, t.loaded) as Record<string, unknown>)}`);
  }
  return 0;
}
