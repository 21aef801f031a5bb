/**
 * The config keys that differ between runs, grouped per plugin (`ftrun compare`), from the dotted
 * paths of core/commands/diff.ts flattenConfig.
 */
import { flattenConfig } from './commands/diff.js';

/** One row of {@link groupConfigDiff}: a config key whose value differs between runs. */
export interface ConfigDiffRow {
  /** The plugin block (`loss`, `sinks[1]`, `training.adapter`…: an object with a `type`), or the top-level section. */
  group: string;
  /** The dotted path (`loss.margin`); for a swap, the plugin's `<group>.type`. */
  path: string;
  /** A plugin swap: the block's type differs, and its option keys are not listed one by one. */
  swap: boolean;
  /** The value in each run; undefined where the run does not have the key. */
  values: unknown[];
}

/**
 * The config keys that differ between any number of runs, grouped per plugin and sorted (groups by
 * name, keys by path within each group). A plugin block is an object with a `type` (`loss`,
 * `sinks[1]`, `training.adapter`) — or `training`, whose `method` says how it trains. When the kind
 * of a block differs between runs (a plugin swap, e.g. loss triplet → multiple-negatives-ranking),
 * the swap is one row (`loss.type`), and an option of that block is listed only when runs of the
 * same kind differ in it (the options that come and go with the swap are not). Keys outside plugin
 * blocks are grouped by their top-level section.
 */
export function groupConfigDiff(configs: ReadonlyArray<Record<string, unknown>>): ConfigDiffRow[] {
  const flat = configs.map((c) => flattenConfig(c));
  const keys = [...new Set(flat.flatMap((f) => [...f.keys()]))];
  const shown = (path: string, runs: number[]) => runs.map((i) => (flat[i]!.has(path) ? JSON.stringify(flat[i]!.get(path)) : undefined));
  const all = flat.map((_, i) => i);
  const differs = (path: string, runs = all) => {
    const v = shown(path, runs);
    return v.some((x) => x !== v[0]);
  };
  // Plugin blocks and the key that names their kind: every path that holds a `type` (or training's `method`) in some run.
  const kindOf = new Map<string, string>();
  for (const k of keys) {
    const m = /^(.*)\.([a-z]+)$/.exec(k);
    if (m && (m[2] === 'type' || (m[2] === 'method' && m[1] === 'training')) && !kindOf.has(m[1]!)) kindOf.set(m[1]!, k);
  }
  const blocks = [...kindOf.keys()];
  const swapped = new Set(blocks.filter((b) => differs(kindOf.get(b)!)));
  const inside = (path: string, b: string) => path.startsWith(`${b}.`) || path.startsWith(`${b}[`);
  /** Runs that agree on the kind of every swapped block around `path`, as groups. */
  const sameKind = (around: string[]) => {
    const groups = new Map<string, number[]>();
    for (const i of all) {
      const key = JSON.stringify(around.map((b) => shown(kindOf.get(b)!, [i])[0]));
      groups.set(key, [...(groups.get(key) ?? []), i]);
    }
    return [...groups.values()];
  };
  const rows: ConfigDiffRow[] = [];
  for (const path of keys) {
    if (!differs(path)) continue;
    const isKind = [...kindOf.entries()].find(([, k]) => k === path)?.[0];
    // the blocks around the key (a block's kind key belongs to the blocks around the block)
    const holders = blocks.filter((b) => b !== isKind && inside(path, b)).sort((x, y) => x.length - y.length);
    const around = holders.filter((b) => swapped.has(b));
    if (isKind !== undefined && swapped.has(isKind) && !around.length) {
      rows.push({ group: isKind, path, swap: true, values: flat.map((f) => f.get(path)) });
      continue;
    }
    // an option of a swapped plugin: listed only where runs of the same kind differ in it
    if (around.length && !sameKind(around).some((g) => g.length > 1 && differs(path, g))) continue;
    const group = isKind ?? holders.at(-1) ?? path.split(/[.[]/)[0]!;
    rows.push({ group, path, swap: false, values: flat.map((f) => f.get(path)) });
  }
  const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
  return rows.sort((a, b) => cmp(a.group, b.group) || Number(b.swap) - Number(a.swap) || cmp(a.path, b.path));
}
