import type { Client } from 'pg';

/**
 * COPY over node-postgres without another dependency: pg runs any object with a `submit(connection)` as a query and
 * hands it the COPY messages (`handleCopyInResponse`, `handleCopyData`). Only what the bulk load needs: a COPY TO
 * whose data goes to a callback, and a COPY FROM that is written to. Text format, as psql's pipe uses.
 */

/** The parts of pg's (untyped) Connection the COPY protocol uses. */
interface PgConnection {
  query(text: string): void;
  sendCopyFromChunk(chunk: Buffer): void;
  endCopyFrom(): void;
  sendCopyFail(message: string): void;
  stream: NodeJS.ReadWriteStream & { writableNeedDrain?: boolean };
}

abstract class CopyQuery {
  protected connection: PgConnection | null = null;
  protected rowCount = 0;
  private error: Error | null = null;
  readonly done: Promise<number>;
  private settle!: { resolve: (rows: number) => void; reject: (err: Error) => void };

  constructor(readonly text: string) {
    this.done = new Promise((resolve, reject) => (this.settle = { resolve, reject }));
    this.done.catch(() => undefined); // observed by whoever awaits it; never an unhandled rejection on its own
  }

  submit(connection: PgConnection): void {
    this.connection = connection;
    connection.query(this.text);
  }

  handleCommandComplete(msg: { text?: string }): void {
    const match = /^COPY (\d+)/.exec(msg.text ?? '');
    if (match) this.rowCount = Number(match[1]);
  }

  handleError(err: Error): void {
    this.error = err;
    this.settle.reject(err);
    this.onFailed(err);
  }

  handleReadyForQuery(): void {
    if (!this.error) this.settle.resolve(this.rowCount);
  }

  protected onFailed(_err: Error): void {}
  handleRowDescription(): void {}
  handleDataRow(): void {}
  handleEmptyQuery(): void {}
  handlePortalSuspended(): void {}
  handleCopyInResponse(connection: PgConnection): void {
    connection.sendCopyFail('this query does not send COPY data');
  }
  handleCopyData(_msg: { chunk: Buffer }): void {}
}

/** `COPY … TO STDOUT`: each CopyData message (a row, in text format) goes to `onData`. */
export class CopyOut extends CopyQuery {
  constructor(
    text: string,
    private readonly onData: (chunk: Buffer) => void,
  ) {
    super(text);
  }

  override handleCopyData(msg: { chunk: Buffer }): void {
    this.onData(msg.chunk);
  }

  /** Backpressure: stops reading the socket (and so the server) until `resume()`. */
  pause(): void {
    this.connection?.stream.pause();
  }

  resume(): void {
    this.connection?.stream.resume();
  }
}

/**
 * `COPY … FROM STDIN`: `write` copies rows into a 64 KB batch sent as one CopyData message (COPY FROM does not need
 * row boundaries there); `end` finishes the COPY.
 */
export class CopyIn extends CopyQuery {
  private ready!: () => void;
  /** Resolves when the server accepts data (or the COPY failed before that). */
  readonly accepting = new Promise<void>((resolve) => (this.ready = resolve));
  private batch = Buffer.allocUnsafe(65_536);
  private used = 0;
  private failed = false;

  override handleCopyInResponse(): void {
    this.ready();
  }

  protected override onFailed(): void {
    this.failed = true;
    this.ready();
  }

  /** Copies `chunk` (pg's read buffer is reused, so a slice of it must not be kept). */
  write(chunk: Buffer): void {
    if (this.failed) return;
    if (this.used + chunk.length > this.batch.length) this.flush();
    if (chunk.length > this.batch.length) {
      this.connection!.sendCopyFromChunk(chunk); // the serializer copies it
      return;
    }
    chunk.copy(this.batch, this.used);
    this.used += chunk.length;
  }

  /** True while the socket to the server has more queued than it wants: the producer should wait for `drained`. */
  get congested(): boolean {
    return this.connection?.stream.writableNeedDrain === true;
  }

  drained(): Promise<void> {
    const stream = this.connection?.stream;
    if (!stream || !this.congested) return Promise.resolve();
    return new Promise((resolve) => stream.once('drain', () => resolve()));
  }

  end(): Promise<number> {
    if (!this.failed) {
      this.flush();
      this.connection!.endCopyFrom();
    }
    return this.done;
  }

  /** Aborts the COPY: the server rolls the statement back and answers with an error. */
  fail(reason: string): Promise<number> {
    if (!this.failed) this.connection!.sendCopyFail(reason);
    return this.done;
  }

  private flush(): void {
    if (!this.used) return;
    this.connection!.sendCopyFromChunk(this.batch.subarray(0, this.used)); // the serializer copies it
    this.used = 0;
  }
}

/**
 * Streams `COPY (query) TO STDOUT` on `from` into `COPY target FROM STDIN` on `to`, with backpressure: psql's pipe,
 * inside our own transactions. Returns the rows the target took.
 */
export async function pipeCopy(from: Client, outSql: string, to: Client, inSql: string): Promise<number> {
  const copyIn = new CopyIn(inSql);
  void to.query(copyIn as never);
  await copyIn.accepting;
  let copyOut: CopyOut | null = null;
  let waiting = false;
  copyOut = new CopyOut(outSql, (chunk) => {
    copyIn.write(chunk);
    if (copyIn.congested && !waiting) {
      waiting = true;
      copyOut!.pause();
      void copyIn.drained().then(() => {
        waiting = false;
        copyOut!.resume();
      });
    }
  });
  void from.query(copyOut as never);
  try {
    await copyOut.done;
  } catch (err) {
    await copyIn.fail(`source failed: ${(err as Error).message}`).catch(() => undefined);
    throw err;
  }
  return copyIn.end();
}
