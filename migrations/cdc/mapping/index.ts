export * from './catalog';
export * from './context-mapping';
export * from './errors';
export * from './values';
