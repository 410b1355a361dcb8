/**
 * Shared and exclusive sections over async work: ordinary DynamoDB requests run side by side (shared),
 * a transaction runs alone (exclusive) once the requests before it finished, and requests that arrive
 * meanwhile wait for it, so nobody sees a transaction half applied.
 */
export class ReadWriteLock {
  /** Settles when the last exclusive section queued so far has ended. */
  private writing: Promise<void> = Promise.resolve();
  /** Exclusive sections queued or running. */
  private exclusives = 0;
  private readers = 0;
  private readonly drained: (() => void)[] = [];

  async shared<T>(run: () => Promise<T>): Promise<T> {
    // Joins at once when no exclusive section is queued: it runs before any that comes later.
    while (this.exclusives > 0) await this.writing;
    this.readers++;
    try {
      return await run();
    } finally {
      if (--this.readers === 0) for (const wake of this.drained.splice(0)) wake();
    }
  }

  exclusive<T>(run: () => Promise<T>): Promise<T> {
    const before = this.writing;
    let done!: () => void;
    this.writing = new Promise<void>((resolve) => {
      done = resolve;
    });
    this.exclusives++;
    return (async () => {
      await before;
      while (this.readers > 0) await new Promise<void>((wake) => this.drained.push(wake));
      try {
        return await run();
      } finally {
        this.exclusives--;
        done();
      }
    })();
  }
}
