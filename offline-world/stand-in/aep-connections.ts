/**
 * Flow Service base connections and target connections (API-NOTES §3: create, list with filters
 * and pages, get, PATCH with If-Match, DELETE with its 1418-400 guard; §3.2 `authorizedDate`),
 * checked against Adobe's schemas and the connection spec served now, and explore (DATAFLOWS §2).
 */
import { checkAgainstServedSpec, readOnlyAuthParams } from './aep-connection-specs';
import type { FlowsExchange } from './aep-flows';
import type { AepCredentials } from './aep-options';
import { isObject, violation, Violation } from './aep-rules';
import { checkDatasetTarget } from './aep-source-connections';
import {
  maskConnection, newEtag, ResourceStore, StoredConnection, StoredResource, StoredTargetConnection,
} from './aep-store';
import { AepValidator } from './aep-validation';
import { fakeAccessKeyId, fakeSecretAccessKey } from './fake-credentials';
import { header } from './http';
import { applyPatch, PatchError, PatchOperation } from './json-patch';
import { AepIds } from '../../src/private/contract';

/**
 * How AEP answers `PATCH /targetConnections/{id}`. Only Adobe's Flow Service spec documents it;
 * the destinations spec, which every export-settings change depends on, does not. `accepted`
 * applies it like a connection PATCH; the refusals model an AEP that does not offer it:
 * `refused-405` as a framework answers an unmapped method, `refused-400` as a service that
 * routes the method but will not change target connections.
 */
export type TargetConnectionPatch = 'accepted' | 'refused-405' | 'refused-400';

/** What explore needs from the AWS stand-in (see {@link AepStandIn.useAws}). */
export interface S3Reader {
  principalOfKey(accessKeyId: string): string | undefined;
  mayList(principalArn: string, bucket: string, prefix: string): Promise<'allowed' | 'denied' | 'explicitly-denied'>;
}

/** The parts of `AepStandIn` this module uses. */
export interface ConnectionsHost {
  readonly validator: AepValidator;
  readonly clientId: AepCredentials['clientId'];
  reply(ex: FlowsExchange, status: number, body: unknown, headers?: Record<string, string>): void;
  reject(ex: FlowsExchange, problem: Violation): void;
  /** Common fields of a new Flow Service object (ids, times, etag, sandbox). */
  newResource(sandbox: string, input: Record<string, unknown>): StoredResource;
  timestamp(): number;
  lagVisibility(ex: FlowsExchange, store: ResourceStore<StoredResource>, id: string): void;
  baseUrl(): string;
  flowServiceUrl(): string;
  /** The S3 connection spec items served now, by id. */
  connectionSpecs(): Record<string, Record<string, unknown>>;
  /** The IAM role AEP assumes for `IAMRole Based` connections (configs endpoint). */
  iamRoleArn(): string;
  /** Why a connection or target may not be deleted because of a dataflow (aep-flows.ts). */
  deleteBlocker(kind: 'connection' | 'target', id: string): Violation | undefined;
  writeLog(line: string): void;
}

/** Base and target connections of one stand-in. */
export class AepConnections {
  readonly connectionStore = new ResourceStore<StoredConnection>(['id', 'name', 'description', 'connectionSpec.id', 'state', 'createdAt', 'updatedAt']);
  readonly targetStore = new ResourceStore<StoredTargetConnection>(['id', 'name', 'connectionSpec.id', 'baseConnectionId', 'state', 'createdAt', 'updatedAt']);
  /** How `PATCH /targetConnections/{id}` is answered; back to the start option on {@link clear}. */
  targetPatch: TargetConnectionPatch;
  /** Explore asks it whether a folder may be listed (see `AepStandIn.useAws`). */
  s3Reader?: S3Reader;

  constructor(private readonly host: ConnectionsHost, private readonly initialTargetPatch: TargetConnectionPatch) {
    this.targetPatch = initialTargetPatch;
  }

  clear(): void {
    this.connectionStore.clear();
    this.targetStore.clear();
    this.targetPatch = this.initialTargetPatch;
  }

  /** Handles `/connections…`, `/targetConnections…` and explore (returns false for any other request). */
  route(ex: FlowsExchange, sandbox: string, method: string, [collection, id, sub, ...rest]: string[], body: unknown): boolean {
    if ((collection === 'connections' || collection === 'targetConnections') && sub === undefined) {
      this.routeCollection(ex, sandbox, method, collection === 'targetConnections', id, body);
      return true;
    }
    if (collection === 'connections' && id && sub === 'explore' && rest.length === 0 && method === 'GET') {
      // Asks the AWS stand-in's authorizer (async); a stand-in bug still becomes a 500.
      this.explore(ex, sandbox, id).catch((err: unknown) => {
        this.host.writeLog(`[aep] internal error: ${err instanceof Error ? err.message : String(err)}`);
        this.host.reply(ex, 500, { errorCode: '500', errorMessage: 'stand-in internal error' });
      });
      return true;
    }
    return false;
  }

  /**
   * A crowded sandbox (issue 19): `count` base connections of the S3 destination spec, each with
   * its target connection, as people make them in the AEP UI (no adoption marker), older than
   * anything a test creates next. Stored directly: `count` can be thousands and only what the
   * client then pays to work beside them is measured. Lists page them at 100 as any others.
   * `newer`: stamped an hour ahead instead, so they list before ours. Returns the target
   * connection ids (the crowd's dataflows are made on them, aep-flows.ts).
   */
  crowd(count: number, sandbox = 'prod', newer = false): string[] {
    const targets: string[] = [];
    const spec = { id: AepIds.S3_DESTINATION_CONNECTION_SPEC, version: '1.0' };
    const ahead = (i: number) => (newer ? { createdAt: Date.now() + 3_600_000 + i, updatedAt: Date.now() + 3_600_000 + i } : {});
    for (let i = 0; i < count; i++) {
      const base: StoredConnection = {
        ...this.host.newResource(sandbox, { name: `ui-export-${i}`, description: 'Made in the AEP UI', connectionSpec: spec }),
        ...ahead(i),
        auth: { specName: 'Access Key', params: { s3AccessKey: fakeAccessKeyId('AKIA', `crowd-${i}`), s3SecretKey: fakeSecretAccessKey(`crowd-${i}`) } },
      };
      stampAuthorizedDate(base);
      this.connectionStore.put(base);
      const target: StoredTargetConnection = {
        ...this.host.newResource(sandbox, { name: `ui-export-${i}`, connectionSpec: spec }),
        ...ahead(i),
        baseConnectionId: base.id,
        params: { mode: 'Server-to-server', bucketName: 'ui-exports', path: `exports/${i}` },
        inheritedAttributes: { baseConnection: base.id },
      };
      this.targetStore.put(target);
      targets.push(target.id);
    }
    return targets;
  }

  private routeCollection(ex: FlowsExchange, sandbox: string, method: string, target: boolean, id: string | undefined, body: unknown): void {
    if (id === undefined) {
      if (method === 'GET') {
        return this.list(ex, sandbox, target);
      }
      if (method === 'POST') {
        return target ? this.createTargetConnection(ex, sandbox, body) : this.createConnection(ex, sandbox, body);
      }
    } else {
      if (method === 'GET') {
        return this.getOne(ex, sandbox, target, id);
      }
      if (method === 'PATCH' && target && this.targetPatch === 'refused-405') {
        this.host.reply(ex, 405, { errorCode: '405', errorMessage: "Request method 'PATCH' is not supported" }, { allow: 'GET, DELETE' });
        return;
      }
      if (method === 'PATCH' && target && this.targetPatch === 'refused-400') {
        this.host.reply(ex, 400, {
          errorCode: '1400-400', errorMessage: 'PATCH is not supported for target connections of this connection spec; create a new target connection instead',
        });
        return;
      }
      if (method === 'PATCH') {
        return this.patch(ex, sandbox, target, id, body);
      }
      if (method === 'DELETE') {
        return this.remove(ex, sandbox, target, id);
      }
    }
    this.host.reply(ex, 405, { errorCode: '405', errorMessage: `${method} is not allowed on ${ex.url.pathname}` });
  }

  private list(ex: FlowsExchange, sandbox: string, target: boolean): void {
    const store: ResourceStore<StoredResource> = target ? this.targetStore : this.connectionStore;
    const result = store.list(sandbox, ex.url.searchParams, `${this.host.baseUrl()}${ex.url.pathname}`);
    if ('messages' in result) {
      this.host.reject(ex, result);
      return;
    }
    const body = result.body as { items?: StoredResource[] };
    if (body.items) {
      body.items = body.items.map((item) => maskConnection(item));
    }
    this.host.reply(ex, result.status, body);
  }

  private getOne(ex: FlowsExchange, sandbox: string, target: boolean, id: string): void {
    const item = (target ? this.targetStore : this.connectionStore).get(id, sandbox);
    if (!item) {
      this.notFound(ex, target, id);
      return;
    }
    // A list wrapper even by id (API-NOTES §3.1).
    this.host.reply(ex, 200, { items: [maskConnection(item)] });
  }

  private createConnection(ex: FlowsExchange, sandbox: string, body: unknown): void {
    const problem = this.host.validator.connection(body, false) ?? this.servedSpecProblem(body as Record<string, unknown>, false);
    if (problem) {
      this.host.reject(ex, problem);
      return;
    }
    const input = body as Record<string, unknown>;
    const item: StoredConnection = {
      ...this.host.newResource(sandbox, input),
      auth: structuredClone(input.auth) as StoredConnection['auth'],
      ...(input.encryption !== undefined ? { encryption: structuredClone(input.encryption) as StoredConnection['encryption'] } : {}),
      ...(input.encryptionSpecs !== undefined ? { encryptionSpecs: structuredClone(input.encryptionSpecs) as StoredConnection['encryptionSpecs'] } : {}),
    };
    stampAuthorizedDate(item);
    this.connectionStore.put(item);
    this.host.lagVisibility(ex, this.connectionStore, item.id);
    this.host.reply(ex, 201, { id: item.id, etag: item.etag }, { location: `${this.host.flowServiceUrl()}/connections/${item.id}` });
  }

  private createTargetConnection(ex: FlowsExchange, sandbox: string, body: unknown): void {
    const problem = this.host.validator.targetConnection(body, false) ?? checkDatasetTarget(body as Record<string, unknown>);
    if (problem) {
      this.host.reject(ex, problem);
      return;
    }
    const input = body as Record<string, unknown>;
    const specId = (input.connectionSpec as { id: string }).id;
    if (input.baseConnectionId !== undefined) {
      const base = this.connectionStore.get(String(input.baseConnectionId), sandbox);
      if (!base || base.connectionSpec.id !== specId) {
        this.host.reject(ex, {
          status: 400,
          errorCode: '400',
          messages: [`baseConnectionId ${String(input.baseConnectionId)} is not a connection of spec ${specId} in sandbox ${sandbox}`],
        });
        return;
      }
    }
    const item: StoredTargetConnection = {
      ...this.host.newResource(sandbox, input),
      ...(input.baseConnectionId !== undefined ? { baseConnectionId: String(input.baseConnectionId) } : {}),
      ...(input.params !== undefined ? { params: structuredClone(input.params) as Record<string, unknown> } : {}),
      ...(input.data !== undefined ? { data: structuredClone(input.data) } : {}),
      // What the target inherits from its base connection, as destinations.yaml's TargetConnectionItem types it.
      inheritedAttributes: input.baseConnectionId !== undefined ? { baseConnection: String(input.baseConnectionId) } : {},
    };
    this.targetStore.put(item);
    this.host.lagVisibility(ex, this.targetStore, item.id);
    this.host.reply(ex, 201, { id: item.id, etag: item.etag }, { location: `${this.host.flowServiceUrl()}/targetConnections/${item.id}` });
  }

  private patch(ex: FlowsExchange, sandbox: string, target: boolean, id: string, body: unknown): void {
    const store: ResourceStore<StoredResource> = target ? this.targetStore : this.connectionStore;
    const item = store.get(id, sandbox);
    if (!item) {
      this.notFound(ex, target, id);
      return;
    }
    const ifMatch = header(ex.req, 'if-match');
    if (ifMatch === undefined) {
      this.host.reply(ex, 400, { errorCode: '1403-400', errorMessage: 'If-Match header is required for this request' });
      return;
    }
    // Compared verbatim: the etag already contains its double quotes (API-NOTES §3.4).
    if (ifMatch !== item.etag) {
      this.host.reply(ex, 412, { errorCode: '1404-412', errorMessage: `Version mismatch: If-Match does not match the current version of ${id}` });
      return;
    }
    const structure = this.host.validator.patch(body);
    if (structure) {
      this.host.reject(ex, structure);
      return;
    }
    let patched: StoredResource;
    try {
      patched = applyPatch(item, body as PatchOperation[]);
    } catch (err) {
      if (err instanceof PatchError) {
        this.host.reject(ex, { status: 400, errorCode: '1455-400', messages: [err.message] });
        return;
      }
      throw err;
    }
    const problem = target ? this.host.validator.targetConnection(patched, true)
      : this.host.validator.connection(patched, true) ?? this.servedSpecProblem(patched as StoredConnection, true, item as StoredConnection);
    if (problem) {
      this.host.reject(ex, problem);
      return;
    }
    const etag = newEtag();
    Object.assign(patched, {
      updatedAt: this.host.timestamp(),
      updatedBy: `${this.host.clientId}@AdobeID`,
      updatedClient: this.host.clientId,
      etag,
      version: etag,
    });
    if (!target) {
      stampAuthorizedDate(patched as StoredConnection);
    }
    store.put(patched);
    this.host.reply(ex, 200, { id, etag });
  }

  private remove(ex: FlowsExchange, sandbox: string, target: boolean, id: string): void {
    const store: ResourceStore<StoredResource> = target ? this.targetStore : this.connectionStore;
    const item = store.get(id, sandbox);
    if (!item) {
      this.notFound(ex, target, id);
      return;
    }
    const blocker = this.host.deleteBlocker(target ? 'target' : 'connection', id);
    if (blocker) {
      this.host.reject(ex, blocker);
      return;
    }
    if (!target && this.targetStore.all().some((t) => t.baseConnectionId === id)) {
      // Mirrors 1418-400 (API-NOTES §3.6): dependants must be deleted first.
      this.host.reply(ex, 400, { errorCode: '1418-400', errorMessage: `Connection ${id} is being used by flows/target connections. Delete them first.` });
      return;
    }
    store.delete(id);
    // [spec-src] documents 204, [spec-dst] 202 (API-NOTES §3.1); answer per resource kind.
    const status = item.connectionSpec.id === AepIds.S3_DESTINATION_CONNECTION_SPEC ? 202 : 204;
    this.host.reply(ex, status, undefined);
  }
  /**
   * `GET /connections/{id}/explore?objectType=folder&object=<bucket>/<folder>` (DATAFLOWS §2.1):
   * a folder listing when the connection's credentials may list it. What AEP answers when S3
   * denies the listing is undocumented (§2.3); modelled as 400 with AEP's connector relaying S3's
   * error in `errorMessage` (a Java-SDK-style text), which the handler must surface verbatim.
   */
  private async explore(ex: FlowsExchange, sandbox: string, id: string): Promise<void> {
    const item = this.connectionStore.get(id, sandbox);
    if (!item) {
      this.notFound(ex, false, id);
      return;
    }
    const objectType = (ex.url.searchParams.get('objectType') ?? '').toLowerCase();
    const object = ex.url.searchParams.get('object') ?? '';
    if (item.connectionSpec.id !== AepIds.S3_SOURCE_CONNECTION_SPEC) {
      this.host.reply(ex, 404, { errorCode: '404', errorMessage: 'stand-in: explore is documented for source connections only (DATAFLOWS §2.4)' });
      return;
    }
    if (objectType !== 'folder' || !object) {
      this.host.reject(ex, violation('stand-in serves explore with objectType=folder&object=<bucket>/<folder> only'));
      return;
    }
    const [bucket, ...rest] = object.replace(/^\/+/, '').split('/');
    const prefix = rest.filter(Boolean).map((p) => `${p}/`).join('');
    const params = item.auth.params;
    if (params.bucketName !== undefined && params.bucketName !== bucket) {
      this.host.reply(ex, 400, { errorCode: '400', errorMessage: `Failed to explore connection: bucket ${bucket} is not the connection's bucket` });
      return;
    }
    if (this.s3Reader) {
      const principal = item.auth.specName === 'IAMRole Based'
        ? this.host.iamRoleArn()
        : this.s3Reader.principalOfKey(String(params.s3AccessKey));
      const decision = principal === undefined ? 'denied' : await this.s3Reader.mayList(principal, bucket, prefix);
      if (decision !== 'allowed') {
        const code = principal === undefined ? 'InvalidAccessKeyId' : 'AccessDenied';
        this.host.reply(ex, 400, {
          errorCode: '400',
          errorMessage: `Failed to explore connection: ${code === 'AccessDenied' ? 'Access Denied' : 'The AWS Access Key Id you provided does not exist in our records.'} `
            + `(Service: Amazon S3; Status Code: 403; Error Code: ${code})`,
        });
        return;
      }
    }
    this.host.reply(ex, 200, []);
  }
  /**
   * A connection body (or the resource a PATCH would produce) checked against the connection
   * spec served now; after a PATCH, `readOnly` auth params must keep their value.
   */
  private servedSpecProblem(body: Record<string, unknown>, stored: boolean, before?: StoredConnection): Violation | undefined {
    const doc = this.host.connectionSpecs()[(body.connectionSpec as { id: string }).id];
    const { code, problems } = checkAgainstServedSpec(body, doc, stored);
    if (before && !problems.length) {
      const auth = body.auth as { specName: string; params: Record<string, unknown> };
      for (const param of readOnlyAuthParams(doc, auth.specName)) {
        if (auth.params[param] !== before.auth.params[param]) problems.push(`auth.params.${param} is readOnly in auth spec '${auth.specName}': it cannot be changed once set`);
      }
    }
    return problems.length ? violation(problems, code) : undefined;
  }
  private notFound(ex: FlowsExchange, target: boolean, id: string): void {
    const kind = target ? 'Target connection' : 'Connection';
    this.host.reply(ex, 404, { errorCode: '404', errorMessage: `${kind} with id ${id} not found` });
  }
}

/** Flow Service adds `authorizedDate` to stored destination auth params (API-NOTES §3.2). */
export function stampAuthorizedDate(item: StoredConnection): void {
  if (item.connectionSpec.id === AepIds.S3_DESTINATION_CONNECTION_SPEC && isObject(item.auth?.params)) {
    item.auth.params.authorizedDate = new Date().toISOString().substring(0, 10);
  }
}
