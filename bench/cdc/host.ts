import path from 'node:path';
import type { PipelineDefinition } from '../../migrations/cdc/pipeline/definition';
import { startNodeProcess, type BenchProcess } from '../tools/processes';
import { HOST_READY, type HostReply, type HostRequest, type PipelineParts, type PipelineStatus } from './host-protocol';

const ENTRY = path.join(__dirname, 'pipeline-host.ts');
const READY_TIMEOUT_MS = 60_000;

type Pending = { resolve: (v: unknown) => void; reject: (e: Error) => void };
/** What a request carries besides the id the host assigns. */
type Request = HostRequest extends infer R ? (R extends HostRequest ? Omit<R, 'id'> : never) : never;

/** The bench's side of `pipeline-host.ts`: one process that runs pipelines on request. */
export class PipelineHost {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();

  private constructor(private readonly proc: BenchProcess) {
    proc.child.on('message', (msg: HostReply | string) => {
      if (typeof msg === 'string') return;
      const p = this.pending.get(msg.id);
      if (!p) return;
      this.pending.delete(msg.id);
      if (msg.ok) p.resolve(msg.result);
      else p.reject(new Error(msg.error));
    });
    void proc.exited.then(({ code, signal }) => {
      const err = new Error(`pipeline host exited (code ${code}, signal ${signal})\n${proc.lastLines.slice(-10).join('\n')}`);
      for (const p of this.pending.values()) p.reject(err);
      this.pending.clear();
    });
  }

  /** Starts the process and waits until it takes requests, so its start-up (tsx compiling) is never measured. */
  static async start(brokers: string, nodeFlags: string[] = [], name = 'pipeline host'): Promise<PipelineHost> {
    const proc = startNodeProcess(name, ENTRY, { BENCH_KAFKA_BROKERS: brokers, KAFKAJS_NO_PARTITIONER_WARNING: '1' }, nodeFlags);
    try {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`${name} not ready within ${READY_TIMEOUT_MS} ms\n${proc.lastLines.join('\n')}`)), READY_TIMEOUT_MS);
        proc.child.on('message', (msg) => {
          if (msg !== HOST_READY) return;
          clearTimeout(timer);
          resolve();
        });
        void proc.exited.then(({ code }) => {
          clearTimeout(timer);
          reject(new Error(`${name} exited during start-up (code ${code})\n${proc.lastLines.join('\n')}`));
        });
      });
    } catch (err) {
      await proc.stop();
      throw err;
    }
    return new PipelineHost(proc);
  }

  get pid(): number {
    return this.proc.pid;
  }

  private request<T>(req: Request): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: (v) => resolve(v as T), reject });
      this.proc.child.send({ ...req, id } as HostRequest);
    });
  }

  /** Resolves once the pipeline streams (after its snapshot, on a first start). */
  startPipeline(definition: PipelineDefinition, parts: PipelineParts): Promise<{ sinkMs: number; totalMs: number }> {
    return this.request({ op: 'start', definition, parts });
  }

  status(name: string): Promise<PipelineStatus> {
    return this.request({ op: 'status', name });
  }

  /** Delivers what the source holds, confirms it on the slot, and leaves the sink's group. */
  stopPipeline(name: string): Promise<void> {
    return this.request({ op: 'stop', name });
  }

  /** SIGTERM: the host stops its pipelines and exits (writing its profile when it runs under --cpu-prof). */
  stop(): Promise<void> {
    return this.proc.stop();
  }
}
