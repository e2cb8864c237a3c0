/** The id ranges cannot be made disjoint as asked (the monolith already reached the boundary, a sequence too small…). */
export class IdRangeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'IdRangeError';
  }
}
