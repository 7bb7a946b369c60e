import * as path from 'path';
import { IConstruct } from 'constructs';

/**
 * Synth-time errors that read like aws-cdk-lib's own `ValidationError`: the construct path is
 * part of the message (jsii passes only the message to Python, Java, .NET and Go), and the stack
 * starts at the user's line, not in this library's files.
 *
 * aws-cdk-lib 2.180 (our minimum) keeps its `ValidationError` class internal, so this is our own
 * class doing the same. It carries aws-cdk-lib's marker symbols, so `Errors.isValidationError(e)`
 * holds for it as for aws-cdk-lib's.
 */

const CONSTRUCT_ERROR_SYMBOL = Symbol.for('@aws-cdk/core.SynthesisError');
const VALIDATION_ERROR_SYMBOL = Symbol.for('@aws-cdk/core.ValidationError');

/** The library's own code: lib/ in the package (src/ under ts-jest). */
const LIBRARY_ROOT = path.resolve(__dirname, '..') + path.sep;

/** How many frames the cut stack keeps (V8's default). */
const FRAMES_SHOWN = 10;

/**
 * The path of the latest construct built by each library constructor (`file#ClassName`): a
 * validation error thrown while that constructor runs names it. Paths only, so no construct tree
 * is kept alive.
 */
const building = new Map<string, string>();

/**
 * Called first thing in a public construct's constructor (after `super`): errors thrown while it
 * runs name this construct's path.
 */
export function constructing(construct: IConstruct): void {
  // Two frames (this function's caller and its caller's caller) rather than a hundred: this runs
  // for every construct, and deep construct trees made it a measurable part of synth (issue 19).
  const caller = callSites(2)[1];
  if (caller) building.set(constructorKey(caller), construct.node.path);
}

/** A validation error of the library's constructs and factories. */
export class ValidationError extends Error {
  /** The path of the construct the error is about, when one is known. */
  declare public readonly constructPath?: string;

  constructor(message: string, scope?: IConstruct) {
    const constructPath = scope?.node.path ?? pathUnderConstruction();
    super(constructPath === undefined ? message : `${message}\n    at path [${constructPath}]`);
    Object.setPrototypeOf(this, ValidationError.prototype);
    Object.defineProperty(this, 'name', { value: 'ValidationError', enumerable: false, writable: true, configurable: true });
    // Not enumerable, as aws-cdk-lib's: Node would print an own property after the stack.
    Object.defineProperty(this, 'constructPath', { value: constructPath, enumerable: false });
    Object.defineProperty(this, CONSTRUCT_ERROR_SYMBOL, { value: true });
    Object.defineProperty(this, VALIDATION_ERROR_SYMBOL, { value: true });
    this.stack = `${this.name}: ${this.message}\n${userFrames().join('\n')}`;
  }

  /** Always `'validation'`, as aws-cdk-lib's. */
  public get type(): string {
    return 'validation';
  }

  /** Always `'error'`, as aws-cdk-lib's. */
  public get level(): string {
    return 'error';
  }
}

/** The innermost library constructor on the stack that registered its construct. */
function pathUnderConstruction(): string | undefined {
  for (const site of callSites()) {
    if (!site.isConstructor() || !isLibraryFile(site.getFileName())) continue;
    const found = building.get(constructorKey(site));
    if (found !== undefined) return found;
  }
  return undefined;
}

/** The stack without its leading frames in this library: the first frame is the caller's line. */
function userFrames(): string[] {
  const holder: { stack?: string } = {};
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 100;
  try {
    Error.captureStackTrace(holder);
  } finally {
    Error.stackTraceLimit = limit;
  }
  const frames = (holder.stack ?? '').split('\n').slice(1);
  const first = frames.findIndex((line) => !isLibraryFile(frameFile(line)));
  return frames.slice(first === -1 ? frames.length : first).slice(0, FRAMES_SHOWN);
}

/** The file of a `    at fn (file:line:col)` or `    at file:line:col` stack line. */
function frameFile(line: string): string | undefined {
  const m = /\(?((?:[A-Za-z]:)?[^():]+):\d+:\d+\)?$/.exec(line.trim());
  return m ? m[1] : undefined;
}

function isLibraryFile(file: string | null | undefined): boolean {
  // The package's own node_modules (a linked install) is not the library.
  return !!file && file.startsWith(LIBRARY_ROOT) && !file.slice(LIBRARY_ROOT.length).split(path.sep).includes('node_modules');
}

function constructorKey(site: NodeJS.CallSite): string {
  return `${site.getFileName()}#${site.getFunctionName()}`;
}

function callSites(depth = 100): NodeJS.CallSite[] {
  const prepare = Error.prepareStackTrace;
  const limit = Error.stackTraceLimit;
  const holder: { stack?: NodeJS.CallSite[] } = {};
  try {
    Error.stackTraceLimit = depth;
    Error.prepareStackTrace = (_error, sites) => sites;
    Error.captureStackTrace(holder, callSites);
    return holder.stack ?? [];
  } finally {
    Error.prepareStackTrace = prepare;
    Error.stackTraceLimit = limit;
  }
}
