import { errorMessage, ToolkitError } from '../errors';

/**
 * Errors of our messaging interface. Callers catch these, never a client library's own classes, so the client can be
 * swapped. `retriable` says whether the same call may succeed later (broker restarting, leader moving).
 */
export class MessagingError extends ToolkitError {}

/** Sending failed; with acks=all some messages of the call may be written nonetheless. */
export class MessagingProduceError extends MessagingError {
  constructor(
    readonly topic: string,
    message: string,
    options: { cause?: unknown; retriable?: boolean } = {},
  ) {
    super(message, options);
    this.name = 'MessagingProduceError';
  }
}

/** A consumer could not connect, subscribe or join its group, or was used in a way it does not support. */
export class MessagingConsumerError extends MessagingError {
  constructor(
    readonly groupId: string,
    message: string,
    options: { cause?: unknown; retriable?: boolean } = {},
  ) {
    super(message, options);
    this.name = 'MessagingConsumerError';
  }
}

export class MessagingAdminError extends MessagingError {
  constructor(message: string, options: { cause?: unknown; retriable?: boolean } = {}) {
    super(message, options);
    this.name = 'MessagingAdminError';
  }
}

/**
 * A consumer's handler threw. The message (or batch) is delivered again; this error only shows up in logs. Always
 * retriable: the client treats a handler's TypeError or RangeError as fatal and would otherwise stop consuming.
 */
export class MessageHandlerError extends MessagingError {
  constructor(
    readonly topic: string,
    readonly partition: number,
    readonly offset: string,
    cause: unknown,
  ) {
    super(`handler failed on ${topic}[${partition}]@${offset}, will redeliver: ${errorMessage(cause)}`, {
      cause,
      retriable: true,
    });
    this.name = 'MessageHandlerError';
  }
}

export { errorMessage } from '../errors';
