/**
 * `ftrun validate <config>`: every problem of the experiment (and of each sweep trial) at once,
 * reading every data record but loading no model; `ftrun plan <config>`: the resolved config, and
 * every sweep trial with its overrides (secrets redacted), each with the options of extended files
 * it left out because they have no effect there.
 */
import { redactConfig } from '../config/output.js';
import { hasSweep } from '../config/sweep.js';
import { formatDropped, type DroppedOption } from '../config/effective.js';
import { formatTrialOverrides, toYaml, validateTrials, validateWithDropped } from '../config/validate.js';
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
  const { config, dropped } = trials.length ? trials[0]! : validateWithDropped(loaded, registry);
  return { loaded, trials, config, dropped };
}

export async function validateCommand(args: ValidateArgs, io: IO): Promise<number> {
  const { loaded, trials } = await validated(args);
  if (args.json) io.out(JSON.stringify({ valid: true, file: loaded.file, trials: trials.length || 1 }) + '\n');
  else io.err(`${args.file}: valid${trials.length ? ` (sweep of ${trials.length} trials)` : ''}\n`);
  return 0;
}

/** YAML comments listing the options of extended files left out (nothing when none). */
function droppedComment(dropped: DroppedOption[]): string {
  if (!dropped.length) return '';
  return ['# dropped: written in an extended file, they have no effect here', ...dropped.map((d) => `#   ${formatDropped(d)}`)].join('\n') + '\n';
}

export async function planCommand(args: ValidateArgs, io: IO): Promise<number> {
  const { loaded, trials, config, dropped } = await validated(args);
  if (args.json) {
    const out = {
      config: redactConfig(config, loaded),
      dropped,
      trials: trials.map((t) => ({ index: t.index, overrides: t.overrides, config: redactConfig(t.config, t.loaded), dropped: t.dropped })),
    };
    io.out(JSON.stringify(out, null, 2) + '\n');
    return 0;
  }
  if (!trials.length) io.out(toYaml(redactConfig(config, loaded) as Record<string, unknown>) + droppedComment(dropped));
  else {
    io.out(`# sweep: ${trials.length} trials\n`);
    for (const t of trials) {
      io.out(`\n# --- trial ${t.index}/${trials.length}: ${formatTrialOverrides(t.overrides)}\n${toYaml(redactConfig(t.config, t.loaded) as Record<string, unknown>)}${droppedComment(t.dropped)}`);
    }
  }
  return 0;
}
