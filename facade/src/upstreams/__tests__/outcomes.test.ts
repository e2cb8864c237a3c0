import { ServiceOutcomes } from '../outcomes';

describe('service outcomes', () => {
  it('counts a request in the window it was routed in: one that ends after a reset is not evidence about the next', () => {
    const outcomes = new ServiceOutcomes();
    outcomes.record('users', true);
    // Routed at cutover to a dead service; the stage moves back (reset) before its failure is known.
    const atCutover = outcomes.epoch('users');
    outcomes.reset('users');
    outcomes.record('users', false, atCutover);
    expect(outcomes.window('users', 60)).toEqual({ requests: 0, failed: 0, errorRate: 0 });

    const afterMove = outcomes.epoch('users');
    outcomes.record('users', false, afterMove);
    outcomes.record('users', true);
    expect(outcomes.window('users', 60)).toEqual({ requests: 2, failed: 1, errorRate: 0.5 });
    // The running totals (the series) keep every request, whichever window it fell in.
    expect(outcomes.total('users')).toEqual({ requests: 4, failed: 2, errorRate: 0.5 });
  });

  it('keeps contexts apart', () => {
    const outcomes = new ServiceOutcomes();
    const orders = outcomes.epoch('orders');
    outcomes.reset('users');
    outcomes.record('orders', false, orders);
    expect(outcomes.window('orders', 60).failed).toBe(1);
  });
});
