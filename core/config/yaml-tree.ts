/**
 * One YAML file → plain data plus the origin of every value (file, line, col), with ${env:…}
 * interpolated in string scalars. Syntax errors become E_YAML with file:line:col.
 */
import { isAlias, isMap, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node } from 'yaml';
import { UserError, type Problem } from '../errors.js';
import { hasInterpolation, interpolate } from './interpolate.js';
import { displayPath, OriginMap, type Origin } from './located.js';
import { formatPath, pathKey, RESERVED_KEYS, reservedKeyMessage, type ConfigPath } from './path.js';

export interface Tree {
  data: Record<string, unknown>;
  origins: OriginMap;
}

/** Set a key without ever touching a prototype (`__proto__` is just a key here). */
export function putKey(obj: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
}

/**
 * Parse `source` (the text of `file`, absolute). Interpolation problems are appended to
 * `problems` (the caller reports them together); syntax errors throw E_YAML at once.
 */
const MAX_NODES = 100_000;
const MAX_ALIASES = 1_000;

export function parseYamlTree(file: string, source: string, env: NodeJS.ProcessEnv, problems: Problem[]): Tree {
  const lc = new LineCounter();
  const doc = parseDocument(source, { lineCounter: lc, prettyErrors: false });
  const shown = displayPath(file);
  const at = (offset: number | undefined): Origin => {
    if (offset === undefined) return { file };
    const { line, col } = lc.linePos(offset);
    return { file, line, col };
  };
  if (doc.errors.length > 0) {
    const e = doc.errors[0]!;
    const { line, col } = lc.linePos(e.pos[0]);
    let message = e.message.split('\n')[0]!.trim();
    if (/multiple documents/.test(message)) {
      message = 'the file holds more than one YAML document (a "---" line starts the next): an experiment file is one document; remove the "---", or split the file and share parts with extends:';
    }
    if (/Maximum call stack size exceeded/.test(message)) {
      // Where the parser ran out of stack depends on the stack: name the line only.
      throw UserError.at('E_YAML', { file: shown, line, path: '', message: 'nesting too deep to read (thousands of levels); an experiment file nests a few levels' });
    }
    throw UserError.at('E_YAML', { file: shown, line, col, path: '', message });
  }
  // A tag ftrun does not know (`!secret`) would be dropped silently by the YAML reader: refuse it.
  const tag = doc.warnings.find((w) => w.code === 'TAG_RESOLVE_FAILED');
  if (tag) {
    const { line, col } = lc.linePos(tag.pos[0]);
    const name = /Unresolved tag: (\S+)/.exec(tag.message)?.[1] ?? 'tag';
    throw UserError.at('E_YAML', { file: shown, line, col, path: '', message: `unknown YAML tag ${name}: experiment files use plain values (secrets come from \${env:NAME})` });
  }
  const origins = new OriginMap();
  const root = doc.contents as Node | null;
  if (root === null) return { data: {}, origins };
  if (!isMap(root)) {
    const o = at(root.range?.[0]);
    throw UserError.config([{ file: shown, line: o.line, col: o.col, path: '', message: 'an experiment file must be a mapping of keys (name, dataset, model, …)' }]);
  }

  // Caps that stop a hostile file before it costs time or memory (an experiment file has a few
  // hundred nodes): nodes after alias expansion, and alias uses.
  let nodes = 0;
  let aliases = 0;
  const convert = (node: unknown, path: ConfigPath, here: Origin, depth = 0): unknown => {
    if (++nodes > MAX_NODES) {
      throw UserError.at('E_YAML', { file: shown, line: here.line, col: here.col, path: formatPath(path), message: `the file expands to more than ${MAX_NODES.toLocaleString('en-US')} values (aliases referring to aliases, a "billion laughs" file?); an experiment file needs far fewer` });
    }
    if (depth > 64) {
      throw UserError.at('E_YAML', { file: shown, line: here.line, col: here.col, path: formatPath(path), message: 'nesting too deep (recursive alias?)' });
    }
    if (isAlias(node)) {
      if (++aliases > MAX_ALIASES) {
        throw UserError.at('E_YAML', { file: shown, line: here.line, col: here.col, path: formatPath(path), message: `more than ${MAX_ALIASES} alias uses (*name) after expansion; an experiment file needs far fewer` });
      }
      const target = node.resolve(doc as Document);
      if (!target) {
        throw UserError.at('E_YAML', { file: shown, line: here.line, col: here.col, path: formatPath(path), message: `unknown alias *${node.source}` });
      }
      return convert(target, path, here, depth + 1);
    }
    if (isMap(node)) {
      const obj: Record<string, unknown> = {};
      for (const pair of node.items) {
        if (!isScalar(pair.key)) {
          const o = at((pair.key as Node | null)?.range?.[0]);
          throw UserError.at('E_YAML', { file: shown, line: o.line, col: o.col, path: formatPath(path), message: 'mapping keys must be plain scalars' });
        }
        const key = String(pair.key.value);
        const keyOrigin = at(pair.key.range?.[0]);
        if (RESERVED_KEYS.has(key)) {
          throw UserError.at('E_CONFIG', { file: shown, line: keyOrigin.line, col: keyOrigin.col, path: formatPath([...path, key]), message: reservedKeyMessage(key) });
        }
        const v = pair.value as Node | null;
        const valueOrigin = v && isScalar(v) ? at(v.range?.[0]) : keyOrigin;
        const p = [...path, key];
        origins.set(p, valueOrigin, keyOrigin);
        putKey(obj, key, v === null ? null : convert(v, p, valueOrigin, depth + 1));
      }
      return obj;
    }
    if (isSeq(node)) {
      return node.items.map((item, i) => {
        const r = (item as Node | null)?.range;
        const o = r ? at(r[0]) : here;
        const p = [...path, i];
        origins.set(p, o);
        return item === null ? null : convert(item, p, o, depth + 1);
      });
    }
    if (isScalar(node)) {
      const v = node.value;
      if (typeof v !== 'string' || !hasInterpolation(v)) return v;
      const r = interpolate(v, env, node.type === 'PLAIN');
      origins.values.set(pathKey(path), { ...(origins.values.get(pathKey(path)) ?? here), template: v });
      for (const message of r.errors) problems.push({ file: shown, line: here.line, col: here.col, path: formatPath(path), message });
      return r.value;
    }
    return null;
  };
  return { data: convert(root, [], { file }) as Record<string, unknown>, origins };
}
