/** The plan's table mapping cannot work (an embed without a parent table, two tables on one service table…). */
export class MappingConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MappingConfigError';
  }
}

/** One row cannot be mapped (a missing key, an embed column that is not a JSON array…): a poison event, not a bug. */
export class RowMappingError extends Error {
  constructor(
    readonly table: string,
    message: string,
  ) {
    super(`${table}: ${message}`);
    this.name = 'RowMappingError';
  }
}
