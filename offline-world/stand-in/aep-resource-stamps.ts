/**
 * The fields Flow Service stamps on every object it creates (API-NOTES §3.1, §3.4): ids, creation
 * and update times (epoch ms), the client and org that made it, the sandbox id and name, state,
 * and the quoted etag that is also its `version`.
 */
import { randomUUID } from 'node:crypto';
import type { AepCredentials } from './aep-options';
import { newEtag, StoredResource } from './aep-store';

/** Stamps new objects; sandbox ids live until {@link clear}, times only ever increase. */
export class ResourceStamps {
  private readonly sandboxIds = new Map<string, string>();
  private lastTimestamp = 0;

  constructor(private readonly credentials: AepCredentials) {}

  /** Forgets the sandbox ids (a fresh world gets new ones). */
  clear(): void {
    this.sandboxIds.clear();
  }

  /** Common fields of a new Flow Service object (ids, times, etag, sandbox). */
  newResource(sandbox: string, input: Record<string, unknown>): StoredResource {
    const now = this.timestamp();
    const etag = newEtag();
    const spec = input.connectionSpec as { id: string; version: string };
    let sandboxId = this.sandboxIds.get(sandbox);
    if (!sandboxId) {
      sandboxId = randomUUID();
      this.sandboxIds.set(sandbox, sandboxId);
    }
    return {
      id: randomUUID(),
      createdAt: now,
      updatedAt: now,
      createdBy: `${this.credentials.clientId}@AdobeID`,
      updatedBy: `${this.credentials.clientId}@AdobeID`,
      createdClient: this.credentials.clientId,
      updatedClient: this.credentials.clientId,
      sandboxId,
      sandboxName: sandbox,
      imsOrgId: this.credentials.orgId,
      name: String(input.name),
      ...(input.description !== undefined ? { description: String(input.description) } : {}),
      connectionSpec: { id: spec.id, version: spec.version },
      state: 'enabled',
      version: etag,
      etag,
    };
  }

  /** Epoch ms, strictly increasing so "newest first" ordering is deterministic. */
  timestamp(): number {
    this.lastTimestamp = Math.max(Date.now(), this.lastTimestamp + 1);
    return this.lastTimestamp;
  }
}
