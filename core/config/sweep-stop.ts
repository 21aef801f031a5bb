/**
 * `sweep.stop`: its schema, defaults and validated form. What the rule does is core/run/sweep-stop.ts.
 */
import type { Problem } from '../errors.js';
import type { JsonSchema } from '../types.js';
import { problemAt, type LoadedConfig } from './located.js';
import { choices } from './messages.js';
import type { ExperimentConfig } from './types.js';
import { methodOf } from '../train/methods.js';

/** The validated `sweep.stop`, its defaults filled in. */
export interface StopRule {
  rule: 'median';
  /** Trials other than this one that must have reached a step before it can be stopped there. */
  min_trials: number;
  /** No trial is stopped at a step up to this one. */
  grace_steps: number;
}

export const STOP_DEFAULTS = { min_trials: 2, grace_steps: 0 } as const;

/** The schema of `sweep.stop` (in core/config/envelope.ts's sweep section). */
export const STOP_SCHEMA: JsonSchema = {
  description:
    'Stop trials early: `median` stops a trial whose primary metric on the test split, at an evaluation during training (training.eval_every), ' +
    'is below the median of the other trials at the same step (Optuna\'s MedianPruner, Ray Tune\'s MedianStoppingRule); the trial ends with status `stopped`. ' +
    `\`{rule: median, min_trials: N, grace_steps: S}\`: only once N other trials reached that step (default ${STOP_DEFAULTS.min_trials}), and not up to step S (default ${STOP_DEFAULTS.grace_steps}).`,
  oneOf: [
    { type: 'string', enum: ['median'] },
    {
      type: 'object',
      additionalProperties: false,
      required: ['rule'],
      properties: {
        rule: { type: 'string', enum: ['median'], description: 'The stopping rule.' },
        min_trials: { type: 'integer', minimum: 1, description: `Other trials that must have reached a step before a trial is stopped there (default ${STOP_DEFAULTS.min_trials}).` },
        grace_steps: { type: 'integer', minimum: 0, description: `No trial is stopped at a step up to this one (default ${STOP_DEFAULTS.grace_steps}).` },
      },
    },
  ],
};

/** `sweep.stop` of an experiment's data (validated by the schema), or undefined without one. */
export function readStopRule(data: Record<string, unknown>): StopRule | undefined {
  const sweep = data.sweep as Record<string, unknown> | undefined;
  const stop = sweep?.stop;
  if (stop === undefined || stop === null) return undefined;
  if (stop === 'median') return { rule: 'median', ...STOP_DEFAULTS };
  const o = stop as Partial<StopRule>;
  return { rule: 'median', min_trials: o.min_trials ?? STOP_DEFAULTS.min_trials, grace_steps: o.grace_steps ?? STOP_DEFAULTS.grace_steps };
}


const RULES = ['median'];
const OPTIONS = ['rule', 'min_trials', 'grace_steps'];

/** Problems of `sweep.stop` (located at their keys and values, with the valid choices); [] without one. */
export function stopProblems(loaded: LoadedConfig): Problem[] {
  const stop = (loaded.data.sweep as Record<string, unknown> | undefined)?.stop;
  if (stop === undefined) return [];
  const at = ['sweep', 'stop'];
  const out: Problem[] = [];
  if (typeof stop === 'string' || stop === null || typeof stop !== 'object' || Array.isArray(stop)) {
    if (stop !== 'median') out.push(problemAt(loaded, at, `unknown stopping rule ${JSON.stringify(stop)}. ${choices(stop, [...RULES, '{rule: median, min_trials: N, grace_steps: S}'])}`));
    return out;
  }
  const o = stop as Record<string, unknown>;
  for (const k of Object.keys(o)) if (!OPTIONS.includes(k)) out.push(problemAt(loaded, [...at, k], `unknown option "${k}". ${choices(k, OPTIONS)}`, 'key'));
  if (o.rule === undefined) out.push(problemAt(loaded, at, `missing "rule". ${choices(undefined, RULES)}`));
  else if (o.rule !== 'median') out.push(problemAt(loaded, [...at, 'rule'], `unknown stopping rule ${JSON.stringify(o.rule)}. ${choices(o.rule, RULES)}`));
  const int = (k: string, min: number) => {
    const v = o[k];
    if (v !== undefined && !(typeof v === 'number' && Number.isInteger(v) && v >= min)) out.push(problemAt(loaded, [...at, k], `must be an integer of at least ${min}, found ${JSON.stringify(v)}`));
  };
  int('min_trials', 1);
  int('grace_steps', 0);
  return out;
}

/**
 * sweep.stop judges the trials by their evaluations on the test split during training: a sweep
 * none of whose trials trains with a test split would never stop one. Located at sweep.stop.
 */
export function stopTrialProblems(loaded: LoadedConfig, configs: readonly ExperimentConfig[]): Problem[] {
  if (!readStopRule(loaded.data) || configs.length === 0) return [];
  if (configs.some((c) => methodOf(c).trains && c.splitter.type !== 'none')) return [];
  const why = configs.every((c) => !methodOf(c).trains) ? 'no trial of this sweep trains (training.method none)' : 'no trial of this sweep has a test split (splitter none)';
  return [
    problemAt(
      loaded,
      ['sweep', 'stop'],
      `stops trials by their evaluations on the test split during training, but ${why}; train (training.method full or adapter) with a test split (splitter ratio or field), or remove sweep.stop`,
    ),
  ];
}
