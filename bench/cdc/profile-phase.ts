import type { CdcRun } from './context';
import type { PipelineParts, PipelineStatus } from './host-protocol';
import type { Profiler } from './profiler';
import { handled } from './snapshot-phase';
import { ackedPast, endMarker, insertUsers, sourceProgress, waitForPipeline } from './workload';

/**
 * The source and end-to-end drains again, under the profiler: a warm-up burst first (the decoding path runs cold,
 * unoptimised code for its first thousands of rows; the measured host had been through a drain's worth of
 * set-up), then a burst of the measured size, drained by the source alone and by the whole forward pipeline.
 */
export async function profileDrains(run: CdcRun, profiler: Profiler): Promise<void> {
  const total = run.volumes.burstRows;
  const drains: { row: string; role: 'source' | 'e2e'; parts: PipelineParts }[] = [
    { row: 'source', role: 'source', parts: 'source' },
    { row: 'end-to-end', role: 'e2e', parts: 'source+sink' },
  ];
  const { host } = profiler;
  const drain = async (prefix: string, rows: number, profiled: boolean) => {
    await insertUsers(run.monolith, rows, prefix);
    const marker = await endMarker(run.monolith);
    for (const d of drains) {
      const definition = run.pipeline(d.role);
      await host.startPipeline(definition, d.parts);
      const done = d.parts === 'source' ? ackedPast(marker) : (s: PipelineStatus) => handled(s) >= rows && ackedPast(marker)(s);
      const wait = async () => void (await waitForPipeline(host, definition.name, done, (s) => handled(s) + sourceProgress(s)));
      if (profiled) await profiler.window(d.row, rows, wait);
      else await wait();
      await host.stopPipeline(definition.name);
    }
  };
  run.log(`profile: warm-up burst, then a second ${total.toLocaleString('en-US')}-row burst drained under --cpu-prof…`);
  await drain('profwarm', run.volumes.profileWarmupRows, false);
  await drain('prof', total, true);
}
