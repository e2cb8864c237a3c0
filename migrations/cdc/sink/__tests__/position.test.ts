import type { ChangeEvent } from '../../events/envelope';
import { eventPosition } from '../position';

const event = (sequence: string | null, op: ChangeEvent['op'] = 'u') => ({ op, source: { sequence } }) as unknown as ChangeEvent;

describe('eventPosition', () => {
  it('reads the compact form Debezium and our source write and any other JSON spelling alike', () => {
    expect(eventPosition(event('["100","250"]'))).toBe(eventPosition(event('[ "100" , "250" ]')));
    expect(eventPosition(event('[null,"250"]'))).toBe(eventPosition(event('[null, "250"]')));
    expect(eventPosition(event('["100","250"]'))).toBe((100n << 65n) | (1n << 64n) | 250n);
  });

  it('orders a snapshot read before what was committed after its consistent point, and a create one past its delete', () => {
    const read = eventPosition(event('[null,"999999"]', 'r'))!;
    const streamed = eventPosition(event('["999999","1000100"]', 'd'))!;
    expect(read < streamed).toBe(true);
    expect(eventPosition(event('["999999","1000100"]', 'c'))).toBe(streamed + 1n);
  });

  it('has no position without a usable sequence', () => {
    for (const sequence of [null, '', 'nope', '["1"]', '["x","2"]', '[1,"2"]', '["1",2]']) expect(eventPosition(event(sequence))).toBeNull();
  });
});
