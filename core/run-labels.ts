/**
 * `ftrun run --tag X --note "…"`: the labels of a run (env.json `tags`, `note`) or a sweep
 * (sweep.json, and each trial's env.json), shown and filtered by `ftrun ls`, kept by `ftrun resume`.
 */
import { UserError } from './errors.js';

/** A run's tags (in the order given, each once) and note. */
export interface RunLabels {
  tags: string[];
  note?: string;
}

/** A tag: letters, digits and `. _ - : / +`, starting with a letter or digit, at most 64 characters. */
const TAG = /^[A-Za-z0-9][A-Za-z0-9._:/+-]{0,63}$/;

/**
 * `--tag X` (repeatable) and `--note "…"` of `ftrun run`, checked: each tag as {@link TAG} says
 * (E_USAGE naming the flag and the form), repeated tags once, in the order given.
 */
export function runLabels(tags: string[], note: string | undefined, command = 'ftrun run'): RunLabels {
  for (const t of tags) {
    if (!TAG.test(t)) {
      throw new UserError('E_USAGE', `${command}: --tag "${t}": a tag is letters, digits and . _ - : / + (starting with a letter or digit, at most 64 characters), e.g. --tag baseline`);
    }
  }
  if (note !== undefined && /[\r\n]/.test(note)) throw new UserError('E_USAGE', `${command}: --note: one line of text, without line breaks`);
  return { tags: [...new Set(tags)], ...(note !== undefined ? { note } : {}) };
}

/** The labels an env.json or sweep.json recorded (none when absent or malformed). */
export function labelsOf(from: object): RunLabels {
  const record = from as { tags?: unknown; note?: unknown };
  const tags = Array.isArray(record.tags) ? record.tags.filter((t): t is string => typeof t === 'string') : [];
  return { tags, ...(typeof record.note === 'string' ? { note: record.note } : {}) };
}
