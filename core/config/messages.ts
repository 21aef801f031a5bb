/**
 * ajv errors → located, readable problems. ajv's own texts ("must NOT have additional
 * properties") are replaced by messages built from its params: the unknown key with a
 * did-you-mean and the allowed keys, the enum choices, the expected type and what was found…
 */
import { isSecretKey, secretFromEnv } from './output.js';
import type { ErrorObject } from 'ajv';
import { didYouMean, type Problem } from '../errors.js';
import { problemAt, templateAt, type LoadedConfig } from './located.js';
import type { ConfigPath } from './path.js';

/** `string "abc"`, `number 3`, `a list`, `a mapping`, `null`. */
export function describeValue(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  if (typeof v === 'string') return `string ${JSON.stringify(v)}`;
  return `${typeof v} ${String(v)}`;
}

const TYPE_NAMES: Record<string, string> = {
  string: 'a string',
  integer: 'an integer',
  number: 'a number',
  boolean: 'true or false',
  object: 'a mapping',
  array: 'a list',
  null: 'null',
};

function typeName(t: unknown): string {
  const list = Array.isArray(t) ? t : String(t).split(',');
  return list.map((x) => TYPE_NAMES[String(x)] ?? String(x)).join(' or ');
}

/** `Did you mean "x"? ` when one is close, then the choices. */
export function choices(word: unknown, options: readonly string[], label = 'Allowed'): string {
  const hint = typeof word === 'string' ? didYouMean(word, options) : undefined;
  const list = options.length ? options.join(', ') : '(none)';
  return `${hint ? `Did you mean "${hint}"? ` : ''}${label}: ${list}.`;
}

/** JSON pointer → path, walking `data` to tell list indexes from keys. */
function pointerToPath(pointer: string, data: unknown): ConfigPath {
  const out: ConfigPath = [];
  let node = data;
  for (const raw of pointer.split('/').slice(1)) {
    const seg = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    const key: string | number = Array.isArray(node) ? Number(seg) : seg;
    out.push(key);
    node = node && typeof node === 'object' ? (node as Record<string | number, unknown>)[key] : undefined;
  }
  return out;
}

function alternatives(schemas: unknown): string | undefined {
  if (!Array.isArray(schemas)) return undefined;
  const names = schemas.map((s: Record<string, unknown>) =>
    s.const !== undefined ? JSON.stringify(s.const) : s.type !== undefined ? typeName(s.type) : undefined,
  );
  return names.every((n) => n !== undefined) ? names.join(' or ') : undefined;
}

/**
 * One message per ajv error (sub-errors of a failed anyOf/oneOf are folded into it). `hidden`
 * keys are left out of "Allowed:" lists (a plugin entry's `type`).
 */
export function ajvProblems(errors: ErrorObject[], base: ConfigPath, data: unknown, loaded: LoadedConfig, hidden: readonly string[] = []): Problem[] {
  const folded = errors.filter((e) => e.keyword === 'anyOf' || e.keyword === 'oneOf').map((e) => e.schemaPath + '/');
  const out: Problem[] = [];
  const seen = new Set<string>();
  const push = (p: Problem) => {
    const k = JSON.stringify(p);
    if (!seen.has(k)) {
      seen.add(k);
      out.push(p);
    }
  };
  for (const e of errors) {
    if (e.keyword === 'if') continue;
    if (folded.some((f) => e.schemaPath.startsWith(f))) continue;
    const path = [...base, ...pointerToPath(e.instancePath, data)];
    const params = e.params as Record<string, any>;
    // A secret's value is never echoed (nor one read from a secret-looking variable).
    const last = path[path.length - 1];
    const secret = (typeof last === 'string' && isSecretKey(last)) || secretFromEnv(templateAt(loaded, path));
    const found = secret && typeof e.data === 'string' ? 'the value (hidden: a secret)' : describeValue(e.data);
    const parent = (e.parentSchema ?? {}) as Record<string, any>;
    switch (e.keyword) {
      case 'additionalProperties': {
        const key = String(params.additionalProperty);
        const allowed = Object.keys(parent.properties ?? {}).filter((k) => !hidden.includes(k)).sort();
        const what = path.length === 0 ? 'top-level key' : 'option';
        push(problemAt(loaded, [...path, key], `unknown ${what} "${key}". ${choices(key, allowed)}`, 'key'));
        break;
      }
      case 'required': {
        const what = path.length === 0 ? 'key' : 'option';
        push(problemAt(loaded, path, `missing required ${what} "${params.missingProperty}"`));
        break;
      }
      case 'enum': {
        const allowed = (params.allowedValues as unknown[]).map((v) => (typeof v === 'string' ? v : JSON.stringify(v)));
        const shown = typeof e.data === 'string' ? JSON.stringify(e.data) : found;
        push(problemAt(loaded, path, `invalid value ${shown}. ${choices(e.data, allowed)}`));
        break;
      }
      case 'const':
        push(problemAt(loaded, path, `must be ${JSON.stringify(params.allowedValue)}, found ${found}`));
        break;
      case 'type':
        push(problemAt(loaded, path, `expected ${typeName(params.type)}, found ${found}`));
        break;
      case 'minimum':
      case 'maximum':
      case 'exclusiveMinimum':
      case 'exclusiveMaximum':
        push(problemAt(loaded, path, `must be ${params.comparison} ${params.limit}, found ${found}`));
        break;
      case 'multipleOf':
        push(problemAt(loaded, path, `must be a multiple of ${params.multipleOf}, found ${found}`));
        break;
      case 'minLength':
        push(problemAt(loaded, path, params.limit === 1 ? 'must not be empty' : `must be at least ${params.limit} characters long`));
        break;
      case 'maxLength':
        push(problemAt(loaded, path, `must be at most ${params.limit} characters long`));
        break;
      case 'minItems':
        push(problemAt(loaded, path, `must have at least ${params.limit} item${params.limit === 1 ? '' : 's'}`));
        break;
      case 'maxItems':
        push(problemAt(loaded, path, `must have at most ${params.limit} item${params.limit === 1 ? '' : 's'}`));
        break;
      case 'minProperties':
        push(problemAt(loaded, path, params.limit === 1 ? 'must not be empty' : `must have at least ${params.limit} keys`));
        break;
      case 'uniqueItems': {
        const item = Array.isArray(e.data) ? describeValue(e.data[params.i]) : 'item';
        push(problemAt(loaded, [...path, params.i], `duplicate ${item} (also at index ${params.j})`));
        break;
      }
      case 'pattern':
        push(problemAt(loaded, path, `${found} does not match the pattern ${params.pattern}`));
        break;
      case 'format':
        push(problemAt(loaded, path, `must be a valid ${params.format}, found ${found}`));
        break;
      case 'anyOf':
      case 'oneOf': {
        if (e.keyword === 'oneOf' && params.passingSchemas) {
          push(problemAt(loaded, path, 'matches more than one allowed form'));
          break;
        }
        // When the value has the type of exactly one alternative, that alternative's own problems
        // say what is wrong (`corpus: {path, txt}` → unknown option "txt"), not "found a mapping".
        const branches = Array.isArray(e.schema) ? (e.schema as Array<Record<string, unknown>>) : [];
        const kind = e.data === null ? 'null' : Array.isArray(e.data) ? 'array' : typeof e.data === 'object' ? 'object' : typeof e.data;
        const same = branches.map((b, i) => ({ b, i })).filter(({ b }) => b.type === kind || (kind === 'number' && b.type === 'integer'));
        if (same.length === 1) {
          const prefix = `${e.schemaPath}/${same[0]!.i}/`;
          const inner = errors.filter((x) => x.schemaPath.startsWith(prefix));
          if (inner.length > 0) {
            for (const p of ajvProblems(inner, base, data, loaded, hidden)) push(p);
            break;
          }
        }
        const alt = alternatives(e.schema);
        push(problemAt(loaded, path, alt ? `expected ${alt}, found ${found}` : `${found} does not match any allowed form`));
        break;
      }
      default:
        push(problemAt(loaded, path, e.message ?? `is not valid (${e.keyword})`));
    }
  }
  return out;
}
