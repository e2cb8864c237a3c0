export * from './errors';
export { reconcile, type DifferentKey, type ReconcileOptions, type ReconcileProgress, type ReconcileResult, type TableReconciliation } from './reconcile';
