export * from './errors';
export * from './id-ranges';
