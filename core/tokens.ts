/** Injection tokens. Plugins receive their validated options and the run context through these. */
export const TOKENS = {
  /** The plugin's own validated options (defaults filled in). */
  options: Symbol.for('ftrun.options'),
  /** The RunContext of the current run (or sweep trial). */
  context: Symbol.for('ftrun.context'),
} as const;
