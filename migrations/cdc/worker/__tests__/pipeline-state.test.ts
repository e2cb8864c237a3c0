import { pipelineState } from '../worker';

describe('a pipeline\'s state: the worse of its source and sink', () => {
  it.each([
    ['streaming', 'streaming', 'streaming'],
    ['snapshotting', 'streaming', 'snapshotting'],
    ['retrying', 'streaming', 'retrying'],
    ['streaming', 'retrying', 'retrying'],
    ['snapshotting', 'retrying', 'retrying'],
    ['retrying', 'stopped', 'stopped'],
    ['streaming', 'error', 'error'],
    ['error', 'retrying', 'error'],
  ] as const)('source %s + sink %s → %s', (source, sink, expected) => {
    expect(pipelineState(source, sink)).toBe(expected);
  });
});
