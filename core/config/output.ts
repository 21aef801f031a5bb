/**
 * Writing a resolved config out: secrets redacted, and a stable YAML dump (top-level keys in
 * canonical order, `type` first in every plugin entry).
 */
import { stringify } from 'yaml';
import { TOP_LEVEL_KEYS } from './envelope.js';
import { templateAt, type LoadedConfig } from './located.js';
import { hasCredentials, redactUrl } from '../url.js';

const SECRET_WORDS = new Set(['token', 'secret', 'password', 'apikey']);

/**
 * Is this key a secret's? It is when one of its words (snake_case, kebab-case, camelCase) is
 * token, secret, password or api key: `api_key`, `apiKey`, `HF_TOKEN`, `client-secret`, but not
 * `tokenizer` or `max_tokens`.
 */
export function isSecretKey(key: string): boolean {
  if (!/(api[_-]?key|token|secret|password)/i.test(key)) return false;
  const words = key
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter(Boolean);
  return words.some((w, i) => SECRET_WORDS.has(w) || (w === 'api' && words[i + 1] === 'key'));
}

/**
 * A deep copy with the values of secret keys replaced by "***" (null/empty values are kept); with
 * `written` (the text as written at a path), a secret written as `${env:NAME}` stays that reference.
 */
export function redactSecrets(obj: object, written?: (path: Array<string | number>) => string | undefined): Record<string, unknown> {
  const walk = (v: unknown, path: Array<string | number>): unknown => {
    if (Array.isArray(v)) return v.map((x, i) => walk(x, [...path, i]));
    if (v && typeof v === 'object') {
      const out: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v)) {
        if (isSecretKey(k) && x !== null && x !== undefined && x !== '') {
          // A secret given as exactly ${env:NAME} is recorded as that reference (so a resume re-reads
          // it); anything else (a literal, a ${env:…:-default}) as the placeholder.
          const t = written?.([...path, k]);
          out[k] = t !== undefined && /^\$\{env:[A-Za-z_][A-Za-z0-9_]*\}$/.test(t) ? t : REDACTED;
        } else if (typeof x === 'string' && (secretFromEnv(written?.([...path, k])) || (hasCredentials(x) && written?.([...path, k])?.includes('${env:')))) {
          // A value built from a secret-looking variable (`Authorization: "Bearer ${env:API_TOKEN}"`),
          // or a URL with credentials built from the environment, is written as the text that
          // builds it, never as its value.
          out[k] = written!([...path, k]);
        } else out[k] = walk(x, [...path, k]);
      }
      return out;
    }
    // A URL's credentials (`https://user:password@host`) are written `***` (`https://***@host`).
    return typeof v === 'string' ? redactUrl(v) : v;
  };
  return walk(obj, []) as Record<string, unknown>;
}

/** redactSecrets of a config loaded as `loaded`, secrets given as `${env:…}` kept as written. */
export function redactConfig(config: object, loaded: LoadedConfig): Record<string, unknown> {
  return redactSecrets(config, (p) => templateAt(loaded, p));
}

/** Does text as written (`…${env:NAME}…`) read a variable whose name looks like a secret (…_TOKEN, …API_KEY…)? */
export function secretFromEnv(template: string | undefined): boolean {
  if (!template) return false;
  for (const m of template.matchAll(/\$\{env:([A-Za-z_][A-Za-z0-9_]*)/g)) if (isSecretKey(m[1]!)) return true;
  return false;
}

/**
 * A command line fit to record: the value of every `--set <path>=<value>` whose key is
 * secret-named is replaced by the placeholder.
 */
export function redactArgv(argv: readonly string[]): string[] {
  const redact = (set: string): string => {
    const eq = set.indexOf('=');
    const key = eq < 0 ? '' : (set.slice(0, eq).split(/[.[\]"]+/).filter(Boolean).pop() ?? '');
    return key && isSecretKey(key) ? `${set.slice(0, eq)}=${REDACTED}` : set;
  };
  return argv.map((a, i) => (argv[i - 1] === '--set' ? redact(a) : a.startsWith('--set=') ? `--set=${redact(a.slice(6))}` : a));
}

/** What a redacted secret is written as. */
export const REDACTED = '***';

/** Paths of secret-named keys whose value is the redaction placeholder, and of URLs whose credentials were redacted (secrets not recorded). */
export function redactedPaths(obj: unknown, path: Array<string | number> = []): Array<Array<string | number>> {
  if (typeof obj === 'string') return obj.includes(`://${REDACTED}@`) ? [path] : [];
  if (Array.isArray(obj)) return obj.flatMap((x, i) => redactedPaths(x, [...path, i]));
  if (!obj || typeof obj !== 'object') return [];
  return Object.entries(obj).flatMap(([k, x]) => (isSecretKey(k) && x === REDACTED ? [[...path, k]] : redactedPaths(x, [...path, k])));
}

function ordered(v: unknown, top: boolean): unknown {
  if (Array.isArray(v)) return v.map((x) => ordered(x, false));
  if (!v || typeof v !== 'object') return v;
  const obj = v as Record<string, unknown>;
  const keys = Object.keys(obj).filter((k) => obj[k] !== undefined);
  const first: string[] = top ? TOP_LEVEL_KEYS.filter((k) => keys.includes(k)) : keys.includes('type') ? ['type'] : [];
  const out: Record<string, unknown> = {};
  for (const k of [...first, ...keys.filter((k) => !first.includes(k))]) out[k] = ordered(obj[k], false);
  return out;
}

/** A stable YAML dump of a (resolved) config. */
export function toYaml(cfg: object): string {
  return stringify(ordered(cfg, true), { lineWidth: 0, aliasDuplicateObjects: false });
}
