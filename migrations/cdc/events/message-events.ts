import { now } from './clock';
import { sourceJson, type ChangeRecord, type SourceContext, type SourcePosition } from './change-events';
import { messageSchemas, withSchema } from './connect-schema';
import type { TransactionBlock } from './envelope';
import type { EventOptions } from './options';
import { encodeBinary } from './values';

/**
 * Debezium's `<prefix>.message` events: a logical-decoding message (`pg_logical_emit_message`) on the captured
 * database, key `{"prefix"}`, value `{op: "m", ts_ms, source, transaction, message: {prefix, content}}` with the
 * content in the binary.handling.mode and `source.schema`/`table` empty. A non-transactional message has a null txId.
 */
export const messageTopicFor = (prefix: string) => `${prefix}.message`;

/** `message.prefix.include.list`: Debezium's comma-separated regular expressions, each matched against the whole prefix. */
export function prefixMatcher(list: readonly string[]): (prefix: string) => boolean {
  if (!list.length) return () => false;
  const patterns = list.map((p) => new RegExp(`^(?:${p})$`));
  return (prefix) => patterns.some((p) => p.test(prefix));
}

export class MessageEvents {
  private readonly topic: string;
  private readonly schemas: { key: string | null; value: string | null };

  constructor(
    private readonly ctx: SourceContext,
    private readonly options: EventOptions,
  ) {
    this.topic = messageTopicFor(ctx.name);
    const schemas = messageSchemas(options);
    this.schemas = { key: options.keySchemas ? schemas.key : null, value: options.valueSchemas ? schemas.value : null };
  }

  record(prefix: string, content: Uint8Array, pos: SourcePosition, transaction: TransactionBlock | null): ChangeRecord {
    const bytes = Buffer.from(content.buffer, content.byteOffset, content.byteLength);
    const key = JSON.stringify({ prefix });
    const source = sourceJson(this.ctx, { schema: '', table: '' }, pos);
    const value =
      `{"op":"m","ts_ms":${now().ms},"source":${source},"transaction":${JSON.stringify(transaction)},` +
      `"message":${JSON.stringify({ prefix, content: encodeBinary(bytes, this.options.binary) })}}`;
    return {
      topic: this.topic,
      key: this.schemas.key ? withSchema(this.schemas.key, key) : key,
      value: this.schemas.value ? withSchema(this.schemas.value, value) : value,
    };
  }
}
