/** Usage texts for `ftrun --help` and `ftrun <command> --help`. */

export const HELP = `ftrun — fine-tune and evaluate text-embedding models for retrieval from YAML experiment files

Usage:
  ftrun <config.yaml> [--set path=value ...]     run an experiment (same as: ftrun run)
  ftrun run <config.yaml> [options]              run an experiment or a sweep
  ftrun validate <config.yaml> [--set ...]       check a config; loads no model or data
  ftrun plan <config.yaml> [--set ...]           print the resolved config (and every sweep trial)
  ftrun diff <runA> <runB> [--md|--json|--html] [--all] compare two runs or two sweeps
  ftrun compare <run> <run>… [--md|--json|--html]  any number of runs or sweep trials side by side
  ftrun ls [runs-dir] [--tag X]                  list runs and sweeps (only those tagged X)
  ftrun rm <run|sweep>… [--yes]                  remove runs and sweeps (asks on a terminal)
  ftrun resume <run-dir>                         continue an interrupted run from its last checkpoint
  ftrun schema                                   print the JSON Schema of experiment files
  ftrun dataset push <file.jsonl> --project P --name N [--split S]  put a JSONL dataset into Braintrust
  ftrun dataset inspect <file> [--rows N] [--json]  columns, types, rows and the dataset: options of a data file
  ftrun dataset generate <config> [--out FILE]   write the queries of a dataset of type generate, without training
  ftrun plan <sweep.yaml> --prepare DIR          prepare a sweep directory for array jobs
  ftrun run <sweep.yaml> --trial N --sweep-dir DIR   run trial N (from 1) of a prepared sweep
  ftrun sweep collect|status <sweep-dir>         leaderboard of a prepared or queued sweep; names missing or failed trials
  ftrun run <sweep.yaml> --queue redis://host:6379 [--detach]   run a sweep's trials on queue workers
  ftrun worker [--queue redis://host:6379] [--concurrency N]    take trials from the queue (or FTRUN_QUEUE) and run them

Common options:
  --set path=value   override a config value (YAML-parsed; repeatable; applied last)
  --sweep path=a,b,c sweep a value from the command line, as Hydra's multirun (run, plan, validate;
                     repeatable): a sweep.grid key, added to the file's grid (the same path replaces it)
  --runs-dir DIR     where run directories go (default: ./runs)
  --json             machine-readable summary on stdout (logs stay on stderr)
  --quiet            no progress or info output
  --verbose          debug output and stack traces for internal errors
  -h, --help         help for a command;  -v, --version

Naming runs: wherever a run or sweep directory is taken (diff, compare, resume, rm, sweep collect|status),
  latest is the newest run or sweep in --runs-dir (default ./runs), latest~1 the one before it, and a
  unique prefix of a run id (as ftrun ls shows it) names that run; an ambiguous prefix lists its matches.

Exit codes: 0 ok · 1 run failed · 2 usage or config error
Docs: docs/README.md
`;

const COMMANDS: Record<string, string> = {
  resume: `Usage: ftrun resume <run-dir> [--json] [--quiet] [--runs-dir DIR]

Continues an interrupted or failed run in its own directory, with the config it recorded (resolved.yaml):
training restarts from the latest checkpoint in <run-dir>/checkpoints, and the evaluations are redone.
A run (or sweep) that another process is still running is refused (exit 2, naming that process).
<run-dir> may be latest, latest~N or a run-id prefix (looked up in --runs-dir, default ./runs).
`,
  run: `Usage: ftrun run <config.yaml> [--set path=value ...] [--sweep path=a,b ...] [--runs-dir DIR] [--parallel N] [--json] [--quiet]

Runs the experiment: dataset → splitter → miner → evaluate (base) → train → evaluate (finetuned) → sinks,
writing runs/<name>/<run-id>/ (resolved.yaml, metrics.json, per_query.jsonl, events.jsonl, report.md, report.html, env.json).
With a \`sweep:\` block, runs every trial under runs/<name>/sweep-<id>/trials/<n>/ and writes leaderboard.md/json/html.

  --sweep path=a,b,c    sweep path over the values a, b, c (each YAML-parsed; repeatable): the same as
                        --set 'sweep.grid["path"]=[a, b, c]', applied after the --set flags, so it adds a
                        grid key to the file's sweep (or makes one) and replaces the file's list for path
  --tag X               tag the run (repeatable; letters, digits and . _ - : / +), recorded in env.json
                        (a sweep's in sweep.json and each trial's env.json); ftrun ls --tag X filters
  --note "text"         a one-line note, recorded in env.json and shown by ftrun ls
  --parallel N          run sweep trials in N worker processes (default 1; at most 4 × the cores)
  --trial N --sweep-dir DIR
                        run only trial N (a decimal number from 1) of a sweep prepared with
                        ftrun plan --prepare DIR, into DIR/trials/N (resumed when it started before):
                        one array job; refused (exit 2) while another process runs that trial
  --queue redis://[:password@]host:port[/db]
                        enqueue the sweep's trials on Redis (BullMQ) for ftrun worker processes,
                        follow them and write the leaderboard; --detach returns at once;
                        Ctrl-C stops following (the trials stay queued; with --cancel the ones no
                        worker has taken are removed)
  --queue env           the same, with the URL in FTRUN_QUEUE (a password stays out of argv; URLs
                        are printed and stored with *** for their credentials)
                        Redis is tried for FTRUN_QUEUE_CONNECT_TIMEOUT_MS (default 10000) before
                        anything is queued; exit 2 when it cannot be reached or refuses the password
`,
  worker: `Usage: ftrun worker [--queue redis://[:password@]host:port[/db] | --queue env] [--concurrency N]

Takes sweep trials from the queue (enqueued by ftrun run <sweep.yaml> --queue …) and runs each into its
sweep's directory, which submitter and workers must share. A trial that fails on a user error is not
retried; other failures are retried up to 3 times; a trial whose worker died resumes from its checkpoint.

Without --queue (or with --queue env) the queue's URL comes from FTRUN_QUEUE, so that a password stays
out of argv; URLs are printed with *** for their credentials. Redis is tried for
FTRUN_QUEUE_CONNECT_TIMEOUT_MS (default 10000) at start (exit 2 when it cannot be reached or refuses the
password); a connection lost later is retried, one line per outage. SIGINT or SIGTERM stops the worker:
its running trials are interrupted (resumable from their checkpoints) and go back to the queue as a retry.
`,
  validate: `Usage: ftrun validate <config.yaml> [--set path=value ...] [--sweep path=a,b ...] [--json]

Checks the experiment file (extends, \${env:…}, --set, every plugin's options, cross-stage checks) and
reports all problems at once with file:line:col. Loads no model, dataset or store. Exit 0 if valid, 2 if not.
`,
  plan: `Usage: ftrun plan <config.yaml> [--set path=value ...] [--sweep path=a,b ...] [--json] [--prepare DIR]

Prints the resolved config (defaults filled in, secrets redacted) and, for a sweep, every trial. Loads no model.

  --prepare DIR   write the sweep directory DIR (sweep.json, every trial pending) for array jobs:
                  ftrun run <config.yaml> --trial N --sweep-dir DIR, then ftrun sweep collect DIR
`,
  schema: `Usage: ftrun schema

Prints the JSON Schema of experiment files, built from the registered plugins' option schemas.
Save it and point your editor at it:  # yaml-language-server: $schema=./ftrun.schema.json
`,
  compare: `Usage: ftrun compare <run> <run>… [--md | --json | --html] [--runs-dir DIR]

Any number (two or more) of runs side by side; a sweep directory stands for all its trials. Each run is
a directory, latest, latest~N or a unique run-id prefix (looked up in --runs-dir, default ./runs).
Shows every metric of each run's fine-tuned model (base when it did not train) — the base model once,
as column base, when the runs' base scores are the same, else each run's base beside it —, the config
keys that differ (grouped per plugin; a plugin swap is one row, its type; sorted), the training loss and
test-split primary metric (first/last, best; --html overlays the curves in one chart each) and the
lowest-k recall per expected category.
--md prints Markdown; --json prints JSON; --html a self-contained page (ftrun compare A B C --html > c.html).
`,
  diff: `Usage: ftrun diff <runA> <runB> [--md | --json | --html] [--all] [--runs-dir DIR]

Compares two run directories (or two sweep directories): changed config keys and metric deltas (B − A)
for each model, each with its 95% paired bootstrap interval and randomization test p-value over the
queries both runs evaluated (n.s.: not significant).  --all lists unchanged keys too;  --md prints Markdown;  --json prints JSON;
--html prints a self-contained HTML page with charts and the queries B ranks better and worse
(ftrun diff A B --html > diff.html). A and B may be latest, latest~N or run-id prefixes (in --runs-dir).
`,
  dataset: `Usage: ftrun dataset push <file.jsonl> --project P --name N [--split S] [--app-url URL]
       ftrun dataset inspect <file> [--rows N] [--json]
       ftrun dataset generate <config> [--set k=v]… [--out FILE] [--json] [--quiet]

Pushes a local JSONL dataset of {input, expected, …} records into a Braintrust dataset (other fields
go into metadata; --split sets metadata.split), where \`dataset: { type: braintrust, project, name }\`
reads it back. The key comes from BRAINTRUST_API_KEY; BRAINTRUST_APP_URL or --app-url names the server.
Exits 1 when the server does not take every record, saying how many were stored and what it answered.

inspect reads a .csv, .tsv, .parquet, .jsonl, .ndjson or .json file and prints its format, row count,
each column with its type and how many values are empty (Parquet: types, rows and nulls from the
footer), the first rows (--rows N, default 5; Parquet: from the first row group) and a dataset: block
that reads it, the fields guessed from the column names (anchor/positive/negative_1…, query/positive/
negatives, sentence1/sentence2/score, question/answer, input/expected, label); when none fits it says
which option to set. --json prints the same as one JSON object on stdout. Given
hf:ORG/NAME[@REVISION][:CONFIG/SPLIT] it inspects a Hugging Face hub dataset's split (default: the
default config's train split), its Parquet files fetched into the HF cache as dataset: { type: hf }
fetches them (HF_ENDPOINT, HF_TOKEN; HF_HUB_OFFLINE=1 reads only the cache).

generate writes the queries of the experiment's dataset: { type: generate } (each document's queries
asked of its llm server, cached answers reused, the filters applied) without loading a model for
training: to --out (default generated.jsonl here; a chunked corpus beside it as <out>_corpus.jsonl),
printing the counts (--json: the file and the counts on stdout). Exit 2 when the server refuses or
does not answer (E_LLM; what was answered stays cached, a rerun asks only for the rest).
`,
  sweep: `Usage: ftrun sweep collect <sweep-dir> [--json]
       ftrun sweep status <sweep-dir> [--json]     (the same, writing nothing)

Reads every trial directory of a sweep (e.g. one prepared with ftrun plan --prepare DIR and run as
array jobs with ftrun run <sweep.yaml> --trial N --sweep-dir DIR), updates sweep.json and writes the
leaderboard (md, json, html). A trial not started yet is "queued" on a sweep submitted to a queue,
"missing" otherwise.

Exit codes: collect: 0 every trial ok · 1 a trial is not ok (named: missing, queued, running, failed…)
            status:  0 no trial failed or was interrupted (the others may still be running or waiting)
                     · 1 a trial failed or was interrupted (named)
            both:    2 DIR is not a sweep directory
`,
  ls: `Usage: ftrun ls [runs-dir] [--tag X ...] [--json]

Lists runs and sweeps under runs-dir (default ./runs): name, id, date, status, primary metric, and the
tags and note given to ftrun run (--tag, --note).  --tag X (repeatable): only those with every tag given.
`,
  rm: `Usage: ftrun rm <run|sweep>… [--yes] [--runs-dir DIR]

Removes runs and sweeps (a sweep with its trials; an experiment folder with its last run). Each is a
directory, latest, latest~N or a unique run-id prefix (looked up in --runs-dir, default ./runs).
On a terminal it lists them and asks (y/N); without one, --yes is needed (exit 2 otherwise).
Refused (exit 2): a run or sweep that a process is running, a sweep's trial alone (remove its sweep),
a directory that is not a run or sweep directory.
`,
};

export function commandHelp(command: string): string {
  return COMMANDS[command] ?? HELP;
}
