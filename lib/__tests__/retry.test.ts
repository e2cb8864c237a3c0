import { ToolkitError, isRetriable } from '../errors';
import { backoffDelay, pollUntil, retry } from '../retry';

class Flaky extends ToolkitError {}

describe('back-off', () => {
  it('doubles from initialMs up to maxMs; jitter draws below the base, never above', () => {
    const policy = { initialMs: 100, maxMs: 1_000, jitter: 0 };
    expect([1, 2, 3, 4, 5, 6].map((a) => backoffDelay(a, policy))).toEqual([100, 200, 400, 800, 1_000, 1_000]);
    expect(backoffDelay(3, { initialMs: 100, maxMs: 1_000 }, () => 0)).toBe(200);
    expect(backoffDelay(3, { initialMs: 100, maxMs: 1_000 }, () => 1)).toBe(400);
  });

  it('retries until the call succeeds, and says each retry', async () => {
    const seen: number[] = [];
    const result = await retry(
      async (attempt) => {
        if (attempt < 3) throw new Flaky('not yet', { retriable: true });
        return attempt;
      },
      { initialMs: 1, maxMs: 2, onRetry: (_err, attempt) => seen.push(attempt) },
    );
    expect(result).toBe(3);
    expect(seen).toEqual([1, 2]);
  });

  it('throws at once what it must not retry, and the last error once the attempts are spent', async () => {
    let calls = 0;
    const fatal = new Flaky('bad input');
    await expect(retry(async () => (calls++, Promise.reject(fatal)), { initialMs: 1, maxMs: 1, retriable: isRetriable })).rejects.toBe(fatal);
    expect(calls).toBe(1);
    calls = 0;
    await expect(retry(async () => (calls++, Promise.reject(new Flaky(`try ${calls}`, { retriable: true }))), { initialMs: 1, maxMs: 1, attempts: 3 })).rejects.toThrow('try 3');
    expect(calls).toBe(3);
  });

  it('pollUntil answers false once the time is up, and checks at least once', async () => {
    expect(await pollUntil(() => false, { timeoutMs: 20, intervalMs: 5 })).toBe(false);
    expect(await pollUntil(() => true, { timeoutMs: 0, intervalMs: 5 })).toBe(true);
  });
});

describe('error base', () => {
  it('names the subclass and lets the root cause decide whether to retry', () => {
    const root = new Flaky('broker restarting', { retriable: true });
    const wrapped = new ToolkitError('retries exhausted', { cause: root });
    expect(root.name).toBe('Flaky');
    expect(wrapped.retriable).toBe(true);
    expect(isRetriable(new ToolkitError('no', { cause: new Error('plain') }))).toBe(false);
    expect(new Flaky('explicit', { cause: root, retriable: false }).retriable).toBe(false);
  });
});
