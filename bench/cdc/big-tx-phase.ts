import { peakRssMb, resetPeakRss, rssMb } from '../../lib/process/memory';
import type { RowResult } from '../report';
import { measure, type CdcRun } from './context';
import { measuredRow, rowWhat } from './rows';
import { handled } from './snapshot-phase';
import { ackedPast, countRows, endMarker, insertUsers, sourceProgress, waitForPipeline } from './workload';

/**
 * One big monolith transaction (a batch job, a data fix) while the forward pipeline streams, as in production: the
 * clock runs from its COMMIT, when logical decoding hands it out, to the last row in the service table. The pipeline
 * process's peak RSS (VmHWM, reset before the insert) is what the row is for: the transaction must stream through,
 * not be held. Restarts the forward pipeline from its slot (the lag phase stopped it) and stops it afterwards.
 */
export async function bigTransactionPhase(run: CdcRun): Promise<RowResult> {
  const { host, monolith, service, volumes: v, log } = run;
  const forward = run.pipeline('e2e');
  const total = v.bigTxRows;
  return measure(run, 'big transaction', async () => {
    await host.startPipeline(forward, 'source+sink');
    try {
      // A restarted sink counts from 0, but what it has dealt with before the insert must not count.
      const base = handled(await host.status(forward.name));
      const pid = host.pid;
      const restMb = rssMb(pid);
      resetPeakRss(pid);
      log(`big transaction: ${total.toLocaleString('en-US')} rows in one transaction…`);
      const insert = await insertUsers(monolith, total, 'bigtx');
      const began = performance.now();
      // The walsender decodes during the insert, but hands nothing out before the commit: CPU from here on.
      const loadavg1 = run.sampleLoad();
      const sampler = run.sampler();
      await sampler.begin();
      const marker = await endMarker(monolith);
      const done = await waitForPipeline(host, forward.name, (s) => handled(s) - base >= total && ackedPast(marker)(s), (s) => handled(s) + sourceProgress(s));
      const cpu = await sampler.end();
      const peakMb = peakRssMb(pid);
      const arrived = await countRows(service, "full_name LIKE 'User bigtx %'");
      const seconds = (done.at - began) / 1000;
      const rss = peakMb === null ? 'peak RSS unknown (no /proc)' : `pipeline process peak RSS ${peakMb} MB (${restMb ?? '–'} MB before the insert)`;
      return measuredRow('big transaction', rowWhat('big transaction', v, run.recvlogical), {
        rows: total,
        seconds,
        cpu,
        loadavg1,
        errors: total - arrived,
        note: `${rss}; the INSERT took ${insert.seconds.toFixed(1)} s, commit → all applied ${seconds.toFixed(1)} s`,
        details: { insertSeconds: insert.seconds, peakRssMb: peakMb, restRssMb: restMb, sink: done.status.sink },
      });
    } finally {
      await host.stopPipeline(forward.name).catch(() => undefined);
    }
  });
}
