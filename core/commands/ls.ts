/**
 * `ftrun ls [runs-dir] [--tag X…] [--json]`: the runs and sweeps under a runs directory
 * (`<runs-dir>/<name>/<run-id>/`), oldest first: name, id, date, status, the primary metric and
 * its value for each model, and the tags and note given to `ftrun run` (--tag, --note). A sweep
 * shows its trial count and the values of its best trial. The directory may also be one
 * experiment's folder (`runs/<name>`). `--tag X` (repeatable) lists only those with every tag given.
 */
import { readdirSync, statSync } from 'node:fs';
import { UserError } from '../errors.js';
import { basename, join } from 'node:path';
import { rankTrials } from '../leaderboard.js';
import { formatDate, formatNumber, metricLabel, modelLabel, orderModels, renderTable } from '../report.js';
import { labelsOf } from '../run-labels.js';
import { dirKind, readJsonFile, readRunDir, readSweepDir } from '../run-reader.js';
import { SWEEP_JSON } from '../run/records.js';

export interface LsArgs {
  runsDir: string;
  format: 'text' | 'json';
  /** --tag: only runs and sweeps with every one of these tags. */
  tags?: string[];
}

export interface LsEntry {
  kind: 'run' | 'sweep';
  name: string;
  id: string;
  dir: string;
  /** ISO timestamp (UTC). */
  date: string;
  status: string;
  primary: string | null;
  /** Primary metric value per model (for a sweep: of its best trial). */
  models: Record<string, number>;
  /** `ftrun run --tag` / `--note`. */
  tags: string[];
  note: string | null;
  /** Sweeps only. */
  trials?: number;
  best?: { index: number; overrides: Record<string, unknown>; model: string | null; value: number | null } | null;
}

function subdirs(dir: string): string[] {
  try {
    return readdirSync(dir, { withFileTypes: true })
      .filter((d) => d.isDirectory() && !d.name.startsWith('.'))
      .map((d) => d.name)
      .sort();
  } catch {
    return [];
  }
}

/** UTC date from an id such as `20250102-030405-abc123` or `sweep-20250102-030405-…`. */
function dateFromId(id: string): Date | undefined {
  const m = /(\d{4})(\d{2})(\d{2})-(\d{2})(\d{2})(\d{2})/.exec(id);
  return m ? new Date(Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!)) : undefined;
}

function entryFor(name: string, id: string, dir: string): LsEntry | undefined {
  const kind = dirKind(dir, true);
  if (!kind) return undefined;
  if (kind === 'run') {
    const r = readRunDir(dir);
    const evaluate = r.config.evaluate as { primary?: unknown } | undefined;
    const primary = r.metrics?.primary ?? (typeof evaluate?.primary === 'string' ? evaluate.primary : null);
    const started = typeof r.env.started_at === 'string' ? new Date(r.env.started_at) : undefined;
    const date = started && !Number.isNaN(started.getTime()) ? started : dateFromId(id) ?? statSync(dir).mtime;
    const models: Record<string, number> = {};
    for (const [m, vals] of Object.entries(r.metrics?.models ?? {})) if (primary && vals[primary] !== undefined) models[m] = vals[primary]!;
    const status = r.metrics?.status ?? (typeof r.env.status === 'string' ? r.env.status : 'unknown');
    const labels = labelsOf(r.env);
    return { kind, name, id, dir, date: date.toISOString(), status, primary, models, tags: labels.tags, note: labels.note ?? null };
  }
  const s = readSweepDir(dir);
  const ranked = rankTrials(s.trials, s.primary);
  const top = ranked.find((e) => e.rank === 1);
  const bestTrial = top ? s.trials.find((t) => t.index === top.index) : undefined;
  const models: Record<string, number> = {};
  for (const [m, vals] of Object.entries(bestTrial?.metrics?.models ?? {})) if (vals[s.primary] !== undefined) models[m] = vals[s.primary]!;
  const ok = s.trials.filter((t) => t.status === 'ok').length;
  const status = ok === s.trials.length ? 'ok' : `${ok}/${s.trials.length} ok`;
  const date = dateFromId(id) ?? statSync(join(dir, SWEEP_JSON)).mtime;
  const best = top ? { index: top.index, overrides: top.overrides, model: top.model, value: top.value } : null;
  const labels = labelsOf(readJsonFile<Record<string, unknown>>(join(dir, SWEEP_JSON)));
  return { kind, name, id, dir, date: date.toISOString(), status, primary: s.primary, models, tags: labels.tags, note: labels.note ?? null, trials: s.trials.length, best };
}

/** Every run and sweep under `runsDir`, oldest first. */
export function listRuns(runsDir: string): LsEntry[] {
  const out: LsEntry[] = [];
  for (const child of subdirs(runsDir)) {
    const dir = join(runsDir, child);
    const direct = entryFor(basename(runsDir), child, dir);
    if (direct) {
      out.push(direct);
      continue;
    }
    for (const id of subdirs(dir)) {
      const e = entryFor(child, id, join(dir, id));
      if (e) out.push(e);
    }
  }
  return out.sort((a, b) => a.date.localeCompare(b.date) || a.name.localeCompare(b.name) || a.id.localeCompare(b.id));
}

export async function lsCommand(args: LsArgs, io: { out: (s: string) => void }): Promise<number> {
  // A runs directory that is missing or is a file is a mistake in the command, not an empty list.
  let kind: string;
  try {
    kind = statSync(args.runsDir).isDirectory() ? 'dir' : 'file';
  } catch {
    kind = 'missing';
  }
  if (kind === 'missing') throw new UserError('E_USAGE', `ftrun ls: ${args.runsDir}: no such directory (runs are listed from a runs directory, e.g. runs/)`);
  if (kind === 'file') throw new UserError('E_USAGE', `ftrun ls: ${args.runsDir}: is a file, not a runs directory`);
  const wanted = args.tags ?? [];
  const entries = listRuns(args.runsDir).filter((e) => wanted.every((t) => e.tags.includes(t)));
  if (args.format === 'json') {
    io.out(JSON.stringify({ runs_dir: args.runsDir, runs: entries }, null, 2) + '\n');
    return 0;
  }
  if (!entries.length) {
    io.out(wanted.length ? `no runs tagged ${wanted.join(' and ')} in ${args.runsDir}\n` : `no runs in ${args.runsDir}\n`);
    return 0;
  }
  const models = orderModels(entries.flatMap((e) => Object.keys(e.models)));
  const anySweep = entries.some((e) => e.kind === 'sweep');
  const anyTags = entries.some((e) => e.tags.length);
  const anyNote = entries.some((e) => e.note);
  const header = ['name', 'id', 'date (UTC)', 'status', 'primary', ...models.map(modelLabel), ...(anySweep ? ['trials'] : []), ...(anyTags ? ['tags'] : []), ...(anyNote ? ['note'] : [])];
  const rows = entries.map((e) => [
    e.name,
    e.id,
    formatDate(new Date(e.date)).replace(' UTC', ''),
    e.status,
    e.primary ? metricLabel(e.primary) : '—',
    ...models.map((m) => formatNumber(e.models[m])),
    ...(anySweep ? [e.kind === 'sweep' ? `${e.trials}${e.best ? ` (best #${e.best.index})` : ''}` : ''] : []),
    ...(anyTags ? [e.tags.join(',')] : []),
    ...(anyNote ? [e.note ?? ''] : []),
  ]);
  const align = header.map((_, i) => (i >= 5 && i < 5 + models.length ? 'right' : 'left') as 'left' | 'right');
  const lines = [renderTable(header, rows, { format: 'text', align })];
  if (anySweep) lines.push('', "a sweep's values are those of its best trial");
  io.out(lines.join('\n') + '\n');
  return 0;
}
