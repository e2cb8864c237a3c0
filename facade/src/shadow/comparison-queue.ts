/**
 * Runs shadow comparisons in the event loop's check phase, a few at a time: at most `budgetMs` of them per turn,
 * then the loop goes back to its I/O (client requests and responses) before the next batch. A comparison is pure
 * CPU work on already captured bytes; done where its promise settled, it would run ahead of every client waiting
 * for a socket write. Moving it to a worker thread would cost more than it saves for the usual small JSON bodies:
 * copying both bodies to the worker and the result back is on the event loop too.
 */
export class ComparisonQueue {
  private readonly jobs: (() => void)[] = [];
  private scheduled = false;

  constructor(private readonly budgetMs = 2) {}

  run<T>(work: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.jobs.push(() => {
        try {
          resolve(work());
        } catch (err) {
          reject(err);
        }
      });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(this.drain);
      }
    });
  }

  get waiting(): number {
    return this.jobs.length;
  }

  private readonly drain = (): void => {
    const until = performance.now() + this.budgetMs;
    let next = 0;
    while (next < this.jobs.length && (next === 0 || performance.now() < until)) this.jobs[next++]();
    this.jobs.splice(0, next);
    if (this.jobs.length > 0) setImmediate(this.drain);
    else this.scheduled = false;
  };
}
