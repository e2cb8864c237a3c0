import { createLogger } from '../../lib/logger';
import { CdcSink } from '../../migrations/cdc/sink';
import { CdcSource } from '../../migrations/cdc/source';
import { startHalves } from '../../migrations/cdc/worker/worker';
import { HOST_READY, type HostReply, type HostRequest, type PipelineStatus } from './host-protocol';

/**
 * The bench's stand-in for the CDC worker: runs pipelines (source, or source + sink in one process, as the worker
 * does) on the bench's requests over IPC. A process of its own, so its CPU is measurable, it can run under
 * --cpu-prof, and the bench's clocks (the lag row's writer and listener) do not share its event loop.
 */
const brokers = process.env.BENCH_KAFKA_BROKERS ?? '';
if (!brokers) throw new Error('BENCH_KAFKA_BROKERS must be set');
// As deployed, minus info lines: a line per chunk would cost more than what it reports.
const logger = createLogger('bench-cdc-pipeline', process.env.BENCH_CDC_LOG_LEVEL ?? 'warn');

const running = new Map<string, { source: CdcSource | null; sink: CdcSink | null }>();

async function handle(req: HostRequest): Promise<unknown> {
  switch (req.op) {
    case 'start': {
      const { definition } = req;
      if (running.has(definition.name)) throw new Error(`${definition.name} is already running`);
      const began = performance.now();
      const sink = req.parts === 'source' ? null : new CdcSink({ definition, brokers, logger });
      const source = req.parts === 'sink' ? null : new CdcSource({ definition, brokers, logger });
      // Registered before it starts: a first start returns only after the snapshot, which the bench watches.
      running.set(definition.name, { source, sink });
      try {
        // As the worker starts them: the sink first (events), or both at once (bulk).
        let sinkMs = 0;
        const timedSink = sink && { start: () => sink.start().then(() => void (sinkMs = performance.now() - began)) };
        if (timedSink && source) await startHalves(definition, timedSink, source);
        else await (timedSink ?? source)!.start();
        return { sinkMs, totalMs: performance.now() - began };
      } catch (err) {
        running.delete(definition.name);
        await source?.stop().catch(() => undefined);
        await sink?.stop().catch(() => undefined);
        throw err;
      }
    }
    case 'status': {
      const p = running.get(req.name);
      if (!p) throw new Error(`${req.name} is not running`);
      const status: PipelineStatus = { source: (await p.source?.status()) ?? null, sink: p.sink?.status() ?? null };
      return status;
    }
    case 'stop': {
      const p = running.get(req.name);
      if (!p) return null;
      running.delete(req.name);
      await p.source?.stop();
      await p.sink?.stop();
      return null;
    }
  }
}

const reply = (r: HostReply) => process.send?.(r);

process.on('message', (req: HostRequest) => {
  handle(req).then(
    (result) => reply({ id: req.id, ok: true, result }),
    (err: unknown) => reply({ id: req.id, ok: false, error: err instanceof Error ? err.message : String(err) }),
  );
});

let exiting = false;
async function shutdown(code: number): Promise<void> {
  if (exiting) return;
  exiting = true;
  for (const [name, p] of running) {
    running.delete(name);
    await p.source?.stop().catch(() => undefined);
    await p.sink?.stop().catch(() => undefined);
  }
  // A normal exit: that is when --cpu-prof writes the profile.
  process.exit(code);
}
process.on('SIGTERM', () => void shutdown(0));
// The bench went away: nothing will ask for the pipelines any more.
process.on('disconnect', () => void shutdown(1));

process.send?.(HOST_READY);
