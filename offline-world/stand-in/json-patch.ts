/**
 * Minimal RFC 6902 JSON Patch (`add` / `replace` / `remove` only — the ops Flow Service documents,
 * API-NOTES §3.4) over RFC 6901 JSON pointers. Written out rather than pulled in as a dependency
 * because the stand-in needs exactly these semantics and error messages that never echo values.
 */

/** One patch operation as Flow Service accepts it (lower-case `op`). */
export interface PatchOperation {
  readonly op: 'add' | 'replace' | 'remove';
  readonly path: string;
  readonly value?: unknown;
}

/** A patch that cannot be applied to the document (bad pointer, missing target). */
export class PatchError extends Error {}

/** Splits a JSON pointer into unescaped tokens (`/a~1b/c~0d` → `['a/b', 'c~d']`). */
export function parsePointer(pointer: string): string[] {
  if (pointer === '') {
    return [];
  }
  if (!pointer.startsWith('/')) {
    throw new PatchError(`path '${pointer}' is not a JSON pointer (must start with '/')`);
  }
  return pointer.substring(1).split('/').map((token) => token.replace(/~1/g, '/').replace(/~0/g, '~'));
}

/**
 * Applies `ops` in order to a deep copy of `document` and returns the copy; `document` itself
 * is untouched, so a failing patch leaves the stored resource as it was (atomicity).
 */
export function applyPatch<T>(document: T, ops: readonly PatchOperation[]): T {
  let doc: unknown = structuredClone(document);
  for (const op of ops) {
    doc = applyOne(doc, op);
  }
  return doc as T;
}

function applyOne(doc: unknown, op: PatchOperation): unknown {
  const tokens = parsePointer(op.path);
  if (tokens.length === 0) {
    throw new PatchError('patching the whole document is not supported');
  }
  const parentTokens = tokens.slice(0, -1);
  const last = tokens[tokens.length - 1];
  let parent: unknown = doc;
  for (const token of parentTokens) {
    parent = child(parent, token, op.path);
  }
  if (Array.isArray(parent)) {
    applyToArray(parent, last, op);
  } else if (parent && typeof parent === 'object') {
    applyToObject(parent as Record<string, unknown>, last, op);
  } else {
    throw new PatchError(`path '${op.path}' does not point into an object or array`);
  }
  return doc;
}

function child(container: unknown, token: string, path: string): unknown {
  if (Array.isArray(container)) {
    const index = arrayIndex(container, token, path, false);
    return container[index];
  }
  if (container && typeof container === 'object' && Object.prototype.hasOwnProperty.call(container, token)) {
    return (container as Record<string, unknown>)[token];
  }
  throw new PatchError(`path '${path}' does not exist`);
}

function applyToObject(parent: Record<string, unknown>, key: string, op: PatchOperation): void {
  const exists = Object.prototype.hasOwnProperty.call(parent, key);
  switch (op.op) {
    case 'add':
      parent[key] = structuredClone(op.value);
      return;
    case 'replace':
      if (!exists) {
        throw new PatchError(`cannot replace '${op.path}': it does not exist`);
      }
      parent[key] = structuredClone(op.value);
      return;
    case 'remove':
      if (!exists) {
        throw new PatchError(`cannot remove '${op.path}': it does not exist`);
      }
      delete parent[key];
      return;
  }
}

function applyToArray(parent: unknown[], token: string, op: PatchOperation): void {
  switch (op.op) {
    case 'add':
      parent.splice(arrayIndex(parent, token, op.path, true), 0, structuredClone(op.value));
      return;
    case 'replace':
      parent[arrayIndex(parent, token, op.path, false)] = structuredClone(op.value);
      return;
    case 'remove':
      parent.splice(arrayIndex(parent, token, op.path, false), 1);
      return;
  }
}

function arrayIndex(array: unknown[], token: string, path: string, forInsert: boolean): number {
  if (forInsert && token === '-') {
    return array.length;
  }
  if (!/^(0|[1-9][0-9]*)$/.test(token)) {
    throw new PatchError(`path '${path}' has an invalid array index`);
  }
  const index = Number(token);
  if (index > array.length || (!forInsert && index === array.length)) {
    throw new PatchError(`path '${path}' is out of bounds`);
  }
  return index;
}
