import { ComparisonQueue } from '../comparison-queue';

const spin = (ms: number) => {
  const until = performance.now() + ms;
  while (performance.now() < until);
};

describe('ComparisonQueue', () => {
  it('runs every job in order and settles each with its result or its error', async () => {
    const queue = new ComparisonQueue();
    const order: number[] = [];
    const results = await Promise.allSettled([
      queue.run(() => (order.push(1), 'a')),
      queue.run(() => {
        order.push(2);
        throw new Error('bad rules');
      }),
      queue.run(() => (order.push(3), 'c')),
    ]);
    expect(order).toEqual([1, 2, 3]);
    expect(results.map((r) => (r.status === 'fulfilled' ? r.value : (r.reason as Error).message))).toEqual(['a', 'bad rules', 'c']);
    expect(queue.waiting).toBe(0);
  });

  it('hands the event loop back between batches, so waiting I/O is not held up by a backlog', async () => {
    const queue = new ComparisonQueue(2);
    let done = 0;
    const jobs = Array.from({ length: 20 }, () => queue.run(() => (spin(1), ++done)));
    // A timer due at once stands for a client's socket event: it runs after a batch, not after all 20 jobs.
    const seenAt = new Promise<number>((resolve) => setTimeout(() => resolve(done), 0));
    await Promise.all(jobs);
    expect(await seenAt).toBeLessThan(20);
    expect(done).toBe(20);
  });
});
