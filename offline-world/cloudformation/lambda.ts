import { AsyncLocalStorage } from 'async_hooks';
import * as fs from 'fs';
import * as http from 'http';
import * as https from 'https';
import * as path from 'path';
import { FunctionError, LiveResource, SimulatorOptions, TIMED_OUT, withTimeout } from './model';

/**
 * Lambda's invocation model for the functions of a simulated stack: a container (module instance
 * and role session) per function and configuration, the function's Environment and role
 * credentials in `process.env`, its Timeout as deadline, console output into the log sink.
 */

/** What the Lambda model needs from the stack it runs in. */
export interface LambdaHost {
  readonly options: SimulatorOptions;
  readonly stackName: string;
  readonly instance: number;
  live(logicalId: string): LiveResource;
  arnOf(fn: LiveResource, logicalId: string): string;
  nextSerial(): number;
  assemblyDir(): string;
  artifactName(): string;
  /**
   * Cloud assemblies of earlier deployments of this stack, newest first: a function a template
   * no longer holds still runs the code it was deployed with (an update's cleanup Deletes).
   */
  earlierAssemblies?(): Array<{ assemblyDir: string; artifactName: string }>;
}

/** One warm Lambda container: a module instance and its role session. */
interface Container {
  readonly key: string;
  /** Lambda runs one invocation at a time in a container; a concurrent one gets another container. */
  busy: boolean;
  readonly entry: (event: any, ctx: any) => any;
  readonly credentials: { accessKeyId: string; secretAccessKey: string; sessionToken: string };
}

/** The Lambda service of one simulated stack. */
export class LambdaService {
  private readonly containers = new Map<string, Container[]>();
  /** Containers started per function and configuration (each new one gets its own role session). */
  private readonly started = new Map<string, number>();

  constructor(private readonly host: LambdaHost) {}

  /**
   * Runs a function as Lambda would: in its own module instance (a container per function and
   * configuration), with its Environment, its execution role's credentials and a deadline of
   * its Timeout (scaled). Errors come back as Lambda's FunctionError payload.
   */
  public async invoke(logicalId: string, event: any): Promise<{ payload?: unknown; functionError?: FunctionError }> {
    const fn = this.host.live(logicalId);
    const props = fn.properties;
    const awsRequestId = `00000000-0000-4000-9000-${String(this.host.nextSerial()).padStart(12, '0')}`;
    let container;
    try {
      container = this.container(logicalId, fn);
    } catch (e) {
      return { functionError: { errorType: 'Runtime.ImportModuleError', errorMessage: (e as Error).message } };
    }
    const timeoutSeconds = Number(props.Timeout ?? 3);
    const timeoutMs = timeoutSeconds * 1000 * (this.host.options.timeScale ?? 1);
    const deadline = Date.now() + timeoutMs;
    const context = {
      getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
      functionName: fn.physicalId,
      functionVersion: '$LATEST',
      invokedFunctionArn: this.host.arnOf(fn, logicalId),
      memoryLimitInMB: String(props.MemorySize ?? 128),
      awsRequestId,
      logGroupName: `/aws/lambda/${fn.physicalId}`,
      logStreamName: `sim/[$LATEST]${awsRequestId.slice(-12)}`,
    };
    const env: Record<string, string> = {
      ...(props.Environment?.Variables ?? {}),
      AWS_LAMBDA_FUNCTION_NAME: fn.physicalId,
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(props.MemorySize ?? 128),
      AWS_ACCESS_KEY_ID: container.credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: container.credentials.secretAccessKey,
      AWS_SESSION_TOKEN: container.credentials.sessionToken,
    };
    container.busy = true;
    try {
      const work = invocationScope.run({ env, sink: this.host.options.logSink }, () => captured(async () => container.entry(event, context)));
      work.catch(() => undefined);
      const outcome = await withTimeout(work, timeoutMs);
      if (outcome === TIMED_OUT) {
        return { functionError: { errorType: 'Sandbox.Timedout', errorMessage: `RequestId: ${awsRequestId} Error: Task timed out after ${timeoutSeconds.toFixed(2)} seconds` } };
      }
      // The response travels as JSON, like Lambda's Payload.
      return { payload: outcome === undefined ? null : JSON.parse(JSON.stringify(outcome)) };
    } catch (e) {
      const err = e as Error;
      return { functionError: { errorType: err?.name ?? 'Error', errorMessage: err?.message ?? String(e), trace: String(err?.stack ?? '').split('\n') } };
    } finally {
      container.busy = false;
    }
  }

  /** The function's container: reused while its code, role and environment stay the same. */
  private container(logicalId: string, fn: LiveResource): Container {
    const props = fn.properties;
    const key = JSON.stringify([props.Code, props.Handler, props.Role, props.Environment, props.Timeout]);
    const pool = (this.containers.get(logicalId) ?? []).filter((c) => c.key === key);
    const idle = pool.find((c) => !c.busy);
    if (idle && this.host.options.containers !== 'cold') return idle;
    const roleArn: string = props.Role;
    const seed = `${this.host.stackName}/${this.host.instance}/${logicalId}/${key}`;
    // A container started while another runs has its own session (a shared seed would replace its token).
    const n = (this.started.get(seed) ?? 0) + 1;
    this.started.set(seed, n);
    const running = pool.filter((c) => c.busy);
    const credentials = this.host.options.aws.registerRoleSession({ roleArn, sessionName: fn.physicalId, seed: running.length ? `${seed}#${n}` : seed });
    const entry = this.loadFunction(logicalId, props);
    const container: Container = { key, entry, credentials, busy: false };
    this.containers.set(logicalId, [...running, container]);
    return container;
  }

  /**
   * Loads a function's bundled code from the cloud assembly (asset hash → directory) as a fresh
   * module instance: module-level state (SDK clients, cached tokens) is never shared between
   * two functions, as between two Lambda containers.
   */
  private loadFunction(logicalId: string, props: any): (event: any, ctx: any) => any {
    const key: string = props.Code?.S3Key ?? '';
    const hash = key.replace(/\.zip$/, '');
    // The asset hash names the code's content: any assembly of this stack holding it has the same code.
    const assemblies = [{ assemblyDir: this.host.assemblyDir(), artifactName: this.host.artifactName() }, ...(this.host.earlierAssemblies?.() ?? [])];
    // Newest first, and no further than the first that holds it.
    let found: string | undefined;
    for (const a of assemblies) {
      const manifest = JSON.parse(fs.readFileSync(path.join(a.assemblyDir, `${a.artifactName}.assets.json`), 'utf8'));
      const source = manifest.files?.[hash]?.source;
      if (source) {
        found = path.join(a.assemblyDir, source.path);
        break;
      }
    }
    if (!found) throw new Error(`asset ${hash} of ${logicalId} is not in the asset manifest`);
    const dir = found;
    if (!fs.existsSync(dir)) throw new Error(`asset ${dir} not found for ${logicalId}`);
    const handler = String(props.Handler);
    const dot = handler.lastIndexOf('.');
    const [file, exportName] = [handler.slice(0, dot), handler.slice(dot + 1)];
    const filename = ['.js', '.cjs', ''].map((ext) => path.join(dir, file + ext)).find((f) => fs.existsSync(f) && fs.statSync(f).isFile());
    if (!filename) throw new Error(`Cannot find module '${file}' in ${dir} (${logicalId})`);
    const mod = loadContainerModule(filename, dir);
    const entry = mod[exportName];
    if (typeof entry !== 'function') throw new Error(`${logicalId} handler ${handler} not exported by the bundle`);
    return entry;
  }
}

/**
 * Loads a bundled module as a fresh instance, as one Lambda container would: its own module-level
 * state, external packages from `dir`, and its own HTTP connection pools.
 */
export function loadContainerModule(filename: string, dir: string): any {
  const mod = { exports: {} as any };
  // Each container gets its own connection pool, as each Lambda container is its own process.
  // Through Node's shared global agents, every container's axios added its own 'error'
  // listener to the same pooled sockets (MaxListenersExceededWarning past ten containers) and a
  // container could reuse a connection another one opened.
  const ownHttp = containerTransport(http, new http.Agent({ keepAlive: true }));
  const ownHttps = containerTransport(https, new https.Agent({ keepAlive: true }));
  const localRequire = (id: string) => {
    if (id === 'http' || id === 'node:http') return ownHttp;
    if (id === 'https' || id === 'node:https') return ownHttps;
    return externalModule(filename, dir, id);
  };
  containerFunction(filename, dir)(mod.exports, localRequire, mod, filename, path.dirname(filename));
  return mod.exports;
}

/**
 * What `require(id)` gives the bundle at `filename`: the package from `dir`'s node_modules (the
 * Lambda runtime's SDK) or a file beside it. Memoized: resolving is the costly part, and the module
 * registry hands every container the same instance of a package anyway (as the runtime's SDK is
 * one copy on disk; the bundle's own module-level state lives in the container function).
 */
const externalModules = new Map<string, unknown>();
function externalModule(filename: string, dir: string, id: string): unknown {
  const key = `${filename}\0${dir}\0${id}`;
  if (externalModules.has(key)) return externalModules.get(key);
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const loaded = require(id.startsWith('.') ? path.resolve(path.dirname(filename), id) : require.resolve(id, { paths: [dir] }));
  externalModules.set(key, loaded);
  return loaded;
}

/**
 * A bundle's code as one function per content: the same asset (its folder is named by the hash of
 * its content) in another cloud assembly shares it. Each call runs the module body afresh (its own
 * module-level state, as a new container), so the file is read and compiled once per process
 * instead of once per container (`new Function(source)` per container hit V8's compilation cache
 * but still built, hashed and compared a fresh copy of the whole wrapped source each time).
 * `sourceURL` names the asset, not the assembly's copy.
 */
const containerFunctions = new Map<string, (...args: unknown[]) => void>();
function containerFunction(filename: string, dir: string): (...args: unknown[]) => void {
  const asset = path.basename(dir);
  const key = /^asset\.[0-9a-f]{64}/.test(asset) ? path.join(asset, path.relative(dir, filename)) : filename;
  let fn = containerFunctions.get(key);
  if (fn === undefined) {
    const source = `${fs.readFileSync(filename, 'utf8')}\n//# sourceURL=${key}`;
    // eslint-disable-next-line @typescript-eslint/no-implied-eval
    fn = new Function('exports', 'require', 'module', '__filename', '__dirname', source) as (...args: unknown[]) => void;
    containerFunctions.set(key, fn);
  }
  return fn;
}

/**
 * `http` or `https` as one container sees it: requests that name no agent use the container's own
 * (keep-alive, as Node's default) instead of the process-wide `globalAgent`.
 */
function containerTransport<T extends typeof http | typeof https>(mod: T, agent: http.Agent): T {
  const withAgent = (args: unknown[]): unknown[] => {
    const i = args.findIndex((a) => typeof a === 'object' && a !== null && !(a instanceof URL));
    if (i < 0) return [...args.filter((a) => typeof a !== 'function'), { agent }, ...args.filter((a) => typeof a === 'function')];
    const options = args[i] as { agent?: unknown };
    return options.agent === undefined ? args.map((a, j) => (j === i ? { ...options, agent } : a)) : args;
  };
  return new Proxy(mod, {
    get(target, prop, receiver) {
      if (prop === 'globalAgent') return agent;
      if (prop === 'request' || prop === 'get') {
        const fn = Reflect.get(target, prop, receiver) as (...a: unknown[]) => http.ClientRequest;
        return (...args: unknown[]) => fn.apply(target, withAgent(args));
      }
      return Reflect.get(target, prop, receiver);
    },
  });
}

function safeJson(value: unknown): string {
  try {
    return value instanceof Error ? `${value.name}: ${value.message}` : JSON.stringify(value);
  } catch {
    return String(value);
  }
}

/**
 * What one invocation sees as its own: its environment and log sink. Concurrent invocations run
 * in one Node process, so `process.env` and the console are routed by async context (each
 * invocation's timers and promises carry it) instead of being swapped globally.
 */
interface InvocationScope {
  readonly env: Record<string, string>;
  readonly sink?: string[];
}

const invocationScope = new AsyncLocalStorage<InvocationScope>();
let envRouted = false;

/** Makes `process.env` answer with the current invocation's environment first (installed once). */
function routeEnvironment(): void {
  if (envRouted) return;
  envRouted = true;
  const base = process.env;
  const own = (key: string | symbol): Record<string, string> | undefined => {
    const env = invocationScope.getStore()?.env;
    return env && typeof key === 'string' && key in env ? env : undefined;
  };
  process.env = new Proxy(base, {
    get: (target, key) => own(key)?.[key as string] ?? Reflect.get(target, key),
    set: (target, key, value) => {
      const env = own(key);
      if (env) { env[key as string] = String(value); return true; }
      return Reflect.set(target, key, value);
    },
    has: (target, key) => own(key) !== undefined || Reflect.has(target, key),
    deleteProperty: (target, key) => {
      const env = own(key);
      if (env) { delete env[key as string]; return true; }
      return Reflect.deleteProperty(target, key);
    },
    ownKeys: (target) => [...new Set([...Reflect.ownKeys(target), ...Object.keys(invocationScope.getStore()?.env ?? {})])],
    getOwnPropertyDescriptor: (target, key) => {
      const env = own(key);
      if (!env) return Reflect.getOwnPropertyDescriptor(target, key);
      return { value: env[key as string], writable: true, enumerable: true, configurable: true };
    },
  });
}

let capturing = 0;
let original: { console: Pick<Console, 'log' | 'info' | 'warn' | 'error' | 'debug'>; write: typeof process.stdout.write } | undefined;

/**
 * Runs a handler with its console output captured into its invocation's log sink (and kept off
 * the screen); output of anything else (the test, the stand-ins) goes where it went before.
 */
async function captured<T>(fn: () => Promise<T>): Promise<T> {
  routeEnvironment();
  if (!invocationScope.getStore()?.sink) return fn();
  if (capturing++ === 0) {
    const saved = { log: console.log, info: console.info, warn: console.warn, error: console.error, debug: console.debug };
    const write = process.stdout.write.bind(process.stdout);
    original = { console: saved, write };
    for (const level of ['log', 'info', 'warn', 'error', 'debug'] as const) {
      console[level] = (...args: unknown[]) => {
        const sink = invocationScope.getStore()?.sink;
        if (sink) sink.push(args.map((a) => typeof a === 'string' ? a : safeJson(a)).join(' '));
        else saved[level](...args);
      };
    }
    (process.stdout as any).write = (chunk: any, ...rest: any[]) => {
      const sink = invocationScope.getStore()?.sink;
      if (!sink) return (write as any)(chunk, ...rest);
      sink.push(String(chunk));
      return typeof rest[rest.length - 1] === 'function' ? (rest[rest.length - 1](), true) : true;
    };
  }
  try {
    return await fn();
  } finally {
    if (--capturing === 0 && original) {
      Object.assign(console, original.console);
      (process.stdout as any).write = original.write;
      original = undefined;
    }
  }
}
