/**
 * File paths in experiment files mean what they say where they are written: an option whose
 * schema has `format: 'path'` (model.path, the jsonl dataset's files, the LanceDB uri, the json
 * sink's path, and any plugin option that declares it) is relative to the file that wrote the
 * value — like tsconfig, ESLint and Hydra. After validation, relative paths written in an extended
 * file (or in a `sweep:` block there) are made absolute against that file's directory; those of
 * the file you run and of `--set` stay as written and resolve against the run's base directory
 * (see baseDirOf), so resolved.yaml keeps them short.
 */
import { dirname, isAbsolute, resolve } from 'node:path';
import type { Registry } from '../registry.js';
import { PATH_FORMAT } from './ajv.js';
import type { JsonSchema } from '../types.js';
import { pluginEntries } from './envelope.js';
import type { LoadedConfig } from './located.js';
import { getAtPath, setAtPath, type ConfigPath } from './path.js';


const isMap = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The config paths below `at` whose value is a string that `schema` marks as a file path. */
export function pathOptions(schema: unknown, value: unknown, at: ConfigPath = []): ConfigPath[] {
  const out = new Map<string, ConfigPath>();
  const walk = (s: unknown, v: unknown, p: ConfigPath) => {
    if (!isMap(s)) return;
    if (s.format === PATH_FORMAT && typeof v === 'string') out.set(JSON.stringify(p), p);
    if (isMap(s.properties) && isMap(v)) {
      for (const [k, sub] of Object.entries(s.properties)) if (Object.prototype.hasOwnProperty.call(v, k)) walk(sub, v[k], [...p, k]);
    }
    if (s.items !== undefined && Array.isArray(v)) v.forEach((x, i) => walk(s.items, x, [...p, i]));
    for (const key of ['oneOf', 'anyOf', 'allOf'] as const) {
      const branches = s[key];
      if (Array.isArray(branches)) for (const b of branches) walk(b, v, p);
    }
  };
  walk(schema, value, at);
  return [...out.values()];
}

/** A URI such as `s3://bucket/db` or `file:///x` is not a file path to anchor. */
const isUri = (v: string) => /^[a-z][a-z0-9+.-]*:\/\//i.test(v);

/**
 * Make relative path options that an extended file wrote absolute against that file's directory
 * (in place, in `data`, the validated config). `modelSchema` is the core `model` section's schema.
 */
export function anchorPaths(data: Record<string, unknown>, loaded: LoadedConfig, registry: Registry, modelSchema: JsonSchema): void {
  const paths: ConfigPath[] = pathOptions(modelSchema, data.model, ['model']);
  for (const { stage, path: at, entry } of pluginEntries(data)) {
    const cls = isMap(entry) && typeof entry.type === 'string' ? registry.get(stage, entry.type) : undefined;
    if (cls) paths.push(...pathOptions(cls.schema, entry, at));
  }
  for (const p of paths) {
    const v = getAtPath(data, p);
    if (typeof v !== 'string' || isAbsolute(v) || isUri(v)) continue;
    const origin = loaded.locate(p).file;
    if (origin === '--set' || origin === loaded.file) continue;
    setAtPath(data, p, resolve(dirname(origin), v));
  }
}
