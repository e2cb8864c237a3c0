/** Reconciliation cannot run as asked (no mapping, a mapped column missing on one side, bad options). */
export class ReconcileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ReconcileError';
  }
}
