/** JSON value kinds and structural equality, shared by the comparison walk and its unordered-array canonical form. */
export const NULL = 0;
const BOOL = 1;
const NUM = 2;
const STR = 3;
export const ARR = 4;
export const OBJ = 5;

export function kindOf(v: unknown): number {
  if (v === null) return NULL;
  switch (typeof v) {
    case 'boolean':
      return BOOL;
    case 'number':
      return NUM;
    case 'string':
      return STR;
    default:
      return Array.isArray(v) ? ARR : OBJ;
  }
}

export type Obj = Record<string, unknown>;
export const hasOwn = Object.prototype.hasOwnProperty;

/** Structural equality without recursion, so a hostile, deeply nested body cannot overflow the stack. */
export function deepEqual(x: unknown, y: unknown): boolean {
  const stack: unknown[] = [x, y];
  while (stack.length) {
    const b = stack.pop();
    const a = stack.pop();
    if (a === b) continue;
    const k = kindOf(a);
    if (k !== kindOf(b) || k < ARR) return false;
    if (k === ARR) {
      const aa = a as unknown[];
      const bb = b as unknown[];
      if (aa.length !== bb.length) return false;
      for (let i = 0; i < aa.length; i++) stack.push(aa[i], bb[i]);
    } else {
      const ao = a as Obj;
      const bo = b as Obj;
      let n = 0;
      for (const key in ao) {
        if (!hasOwn.call(bo, key)) return false;
        stack.push(ao[key], bo[key]);
        n++;
      }
      for (const _key in bo) n--;
      if (n !== 0) return false;
    }
  }
  return true;
}

