/**
 * Errors raised by plugins while a run loads data or models name the option at fault
 * (`dataset.queries: file not found: …`) but not where it is written. This adds the config
 * location, so every user error names file:line:col and the YAML path.
 */
import type { LoadedConfig } from '../config/load.js';
import { displayPath } from '../config/located.js';
import { parsePath } from '../config/path.js';
import { formatProblem, UserError } from '../errors.js';

const LEADING_PATH = /^([A-Za-z_][\w-]*(?:\.[A-Za-z_][\w-]*|\[\d+\])*): /;

export function locateError(e: unknown, loaded: LoadedConfig, fallback: string): unknown {
  if (!(e instanceof UserError) || e.problems.some((p) => p.line !== undefined)) return e;
  // An error that lists its problems (UserError.config from a plugin): locate each one, keep one list.
  if (e.problems.length > 0) {
    const problems = e.problems.map((p) => {
      const path = parsePath(p.path);
      if (!Array.isArray(path) || path.length === 0) return p;
      const o = loaded.locate(path);
      return { ...p, file: displayPath(o.file), ...(o.line !== undefined ? { line: o.line, col: o.col ?? 1 } : {}) };
    });
    const message = e.code === 'E_CONFIG' || problems.length > 1 ? UserError.config(problems).message : formatProblem(problems[0]!);
    return new UserError(e.code, message, { problems, cause: e });
  }
  const m = LEADING_PATH.exec(e.message);
  const named = m ? parsePath(m[1]!) : undefined;
  const path = Array.isArray(named) && named[0] === parsePath(fallback)[0] ? named : parsePath(fallback);
  if (!Array.isArray(path)) return e;
  const o = loaded.locate(path);
  const where = o.line !== undefined ? `${displayPath(o.file)}:${o.line}:${o.col ?? 1}` : displayPath(o.file);
  const rest = Array.isArray(named) && path === named ? e.message.slice(m![0].length) : e.message;
  const shownPath = (path as Array<string | number>).map((s, i) => (typeof s === 'number' ? `[${s}]` : i ? `.${s}` : s)).join('');
  const problem = { file: displayPath(o.file), line: o.line, col: o.col, path: shownPath, message: rest };
  return new UserError(e.code, `${where} ${shownPath}: ${rest}`, { problems: [problem], cause: e });
}
