/** Kafka did not take a batch and retrying will not help (a message too large, an authorisation error…). */
export class DeliveryError extends Error {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'DeliveryError';
  }
}

/** The writer was closed; what it still held was not delivered (and so never acknowledged to Postgres). */
export class WriterClosedError extends Error {
  constructor() {
    super('change writer is closed');
    this.name = 'WriterClosedError';
  }
}
