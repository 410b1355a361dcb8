/**
 * The local mesh's access log: the last access-log lines its functions printed, numbered, as CloudWatch
 * Logs holds them on AWS. `mesh tap` follows it through `GET /_mesh/access?after=<seq>`.
 */
import { type AccessEntry, parseAccessLine } from '../../shared/telemetry/access-log';

/** One line and its place in the log. */
export interface SequencedAccess {
  readonly seq: number;
  readonly entry: AccessEntry;
}

export class AccessLogBuffer {
  private readonly lines: SequencedAccess[] = [];
  private seq = 0;

  /** @param capacity lines kept; older ones are dropped (a follower that falls that far behind skips them). */
  constructor(private readonly capacity = 5_000) {}

  /** Keeps `line` when it is an access-log line; any other line is ignored. */
  record(line: string): void {
    const entry = parseAccessLine(line);
    if (!entry) return;
    this.lines.push({ seq: ++this.seq, entry });
    if (this.lines.length > this.capacity) this.lines.splice(0, this.lines.length - this.capacity);
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
}
