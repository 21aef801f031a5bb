/**
 * The run's events: each is appended to events.jsonl, then delivered to every sink's `log()` in
 * order, each call awaited, so a slow sink holds the next event back instead of piling up
 * promises, and an async sink that rejects is caught. A sink that fails is reported once, by
 * name, and gets no further events; the run, its directory and the other sinks go on. Training
 * engines report synchronously (TrainRequest.onEvent): those events are queued in order and
 * `flush()` awaits them.
 */
import { join } from 'node:path';
import { appendJsonl } from '../fsutil.js';
import type { Logger, RunEvent, RunEventMap, RunEventType, SinkPlugin, TrainingEvent } from '../types.js';
import type { PluginEntryRef } from './plugin-errors.js';
import { EVENTS_JSONL } from './records.js';

export interface NamedSink {
  /** For messages: `sinks[1] (type: markdown) at exp.yaml:12:5` (pluginLabel). */
  name: string;
  /** Its entry in the config, for naming what its other calls throw (plugin-errors.ts). */
  ref: PluginEntryRef;
  sink: SinkPlugin;
}

export class RunEvents {
  private readonly sinks: NamedSink[] = [];
  private readonly failed = new Set<NamedSink>();
  private queue: Promise<void> = Promise.resolve();
  private queued?: unknown;
  /** The stages started and not ended, innermost last. */
  private readonly open: string[] = [];
  /** The last stage that ended. */
  private ended?: string;

  constructor(
    private readonly runDir: string,
    private readonly logger: Logger,
  ) {}

  /** Sinks receive the events emitted after they are added. */
  addSink(sink: NamedSink): void {
    this.sinks.push(sink);
  }

  /** Record one event and deliver it to each sink, in order. A write failure of events.jsonl throws. */
  async emit<K extends RunEventType>(type: K, fields: RunEventMap[K]): Promise<void> {
    const event = { time: new Date().toISOString(), type, ...fields } as RunEvent;
    if (event.type === 'stage_start') this.open.push(event.stage);
    else if (event.type === 'stage_end' && this.open.includes(event.stage)) {
      this.open.splice(this.open.lastIndexOf(event.stage), 1);
      this.ended = event.stage;
    }
    appendJsonl(join(this.runDir, EVENTS_JSONL), event);
    for (const s of this.sinks) {
      if (this.failed.has(s) || !s.sink.log) continue;
      try {
        await s.sink.log(event);
      } catch (e) {
        this.failed.add(s);
        this.logger.warn(`${s.name} failed on a ${type} event and gets no more events: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
  }

  /** A training engine's event, queued behind the earlier ones (engines report synchronously). */
  post(event: TrainingEvent): void {
    const { type, ...fields } = event;
    const runType = type === 'eval' ? 'train_eval' : type;
    this.queue = this.queue.then(() => this.emit(runType, fields as never)).catch((e: unknown) => {
      this.queued ??= e;
    });
  }

  /** The innermost stage that started and has not ended (where a failed, interrupted or stopped run ended), if any. */
  get stage(): string | undefined {
    return this.open.at(-1);
  }

  /** The last stage that ended (a run that failed between stages failed after it), if any. */
  get lastStage(): string | undefined {
    return this.ended;
  }

  /** Wait until every posted event is delivered; throws the first that could not be recorded. */
  async flush(): Promise<void> {
    await this.queue;
    if (this.queued !== undefined) {
      const e = this.queued;
      this.queued = undefined;
      throw e;
    }
  }
}
