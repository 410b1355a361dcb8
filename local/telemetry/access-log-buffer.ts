/**
 * The local mesh's access log: the last access-log lines its functions printed, numbered, as CloudWatch
 * Logs holds them on AWS. `mesh tap` follows it through `GET /_mesh/access?after=<seq>`, and starts from
 * a time with `?since=<duration>`.
 */
import { type AccessEntry, parseAccessLine } from '../../shared/telemetry/access-log';
import { ACCESS_LOG_CAPACITY } from '../../shared/telemetry/local-mesh-routes';

/** One line and its place in the log. */
export interface SequencedAccess {
  readonly seq: number;
  readonly entry: AccessEntry;
}

export class AccessLogBuffer {
  private readonly lines: SequencedAccess[] = [];
  private seq = 0;
  /** The newest `time` of the lines dropped: a window that starts before it is no longer whole. */
  private dropped: number | undefined;

  /** @param capacity lines kept; older ones are dropped (a follower that falls that far behind skips them). */
  constructor(private readonly capacity = ACCESS_LOG_CAPACITY) {}

  /** Keeps `line` when it is an access-log line; any other line is ignored. */
  record(line: string): void {
    const entry = parseAccessLine(line);
    if (!entry) return;
    this.lines.push({ seq: ++this.seq, entry });
    if (this.lines.length <= this.capacity) return;
    for (const l of this.lines.splice(0, this.lines.length - this.capacity))
      this.dropped = Math.max(this.dropped ?? l.entry.time, l.entry.time);
  }

  /** The newest time among the lines already dropped, if any were: lines up to it may be missing. */
  get droppedUntil(): number | undefined {
    return this.dropped;
  }

  /** The number of the newest line: a cursor for "from now on". */
  get latest(): number {
    return this.seq;
  }

  /** Up to `limit` lines after `after`, oldest first. */
  after(after: number, limit: number): SequencedAccess[] {
    const first = this.lines.findIndex((l) => l.seq > after);
    return first < 0 ? [] : this.lines.slice(first, first + limit);
  }

  /**
   * Up to `limit` lines from the first whose time is `time` or later, in the order they came (a line
   * after it that is older, from a slower function, comes with them, as a follower would have seen it).
   */
  since(time: number, limit: number): SequencedAccess[] {
    const first = this.lines.findIndex((l) => l.entry.time >= time);
    return first < 0 ? [] : this.lines.slice(first, first + limit);
  }
}
