export * from './compare';
export * from './noise';
export * from './diff-store';
export { formatPath, parsePattern, PathSyntaxError } from './paths';
