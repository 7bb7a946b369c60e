/**
 * The connection specs Flow Service serves (`GET /connectionSpecs/{id}`, DATAFLOWS §1, in the
 * documented variant chosen; aep-connection-specs.ts) and the S3 source spec's IAM role config
 * (`GET /connectionSpecs/{id}/configs?authType=IamBasedAuthentication`, API-NOTES §4.2).
 */
import {
  connectionSpecDocuments, type ConnectionSpecVariant,
} from './aep-connection-specs';
import type { FlowsExchange } from './aep-flows';
import type { Violation } from './aep-rules';
import { AepIds } from '../../src/private/contract';

/** The parts of `AepStandIn` these routes use. */
export interface ConnectionSpecsHost {
  reply(ex: FlowsExchange, status: number, body: unknown): void;
  reject(ex: FlowsExchange, problem: Violation): void;
}

/** Which connection specs and IAM role are served now; back to the start options on {@link reset}. */
export class AepConnectionSpecsRoute {
  /** What the configs endpoint returns as `IAMRole`. */
  iamRoleArn: string;
  /** The documented variant of the S3 connection specs served and enforced. */
  variant: ConnectionSpecVariant;

  constructor(
    private readonly host: ConnectionSpecsHost, private readonly initialIamRoleArn: string, private readonly initialVariant: ConnectionSpecVariant,
  ) {
    this.iamRoleArn = initialIamRoleArn;
    this.variant = initialVariant;
  }

  reset(): void {
    this.iamRoleArn = this.initialIamRoleArn;
    this.variant = this.initialVariant;
  }

  /** The S3 connection spec items served now, by id. */
  documents(): Record<string, Record<string, unknown>> {
    return connectionSpecDocuments(this.variant);
  }

  /** Handles `GET /connectionSpecs/{id}[/configs]` (returns false for any other request). */
  route(ex: FlowsExchange, method: string, [collection, id, sub, ...rest]: string[]): boolean {
    if (collection === 'connectionSpecs' && id && sub === undefined && method === 'GET') {
      this.serveSpec(ex, id);
      return true;
    }
    if (collection === 'connectionSpecs' && id && sub === 'configs' && rest.length === 0 && method === 'GET') {
      this.serveConfigs(ex, id);
      return true;
    }
    return false;
  }

  /** `GET /connectionSpecs/{id}` (DATAFLOWS §1.1): a list wrapper even by id. */
  private serveSpec(ex: FlowsExchange, specId: string): void {
    const doc = this.documents()[specId];
    if (!doc) {
      this.host.reply(ex, 404, { errorCode: '404', errorMessage: `Connection spec ${specId} not found` });
      return;
    }
    this.host.reply(ex, 200, { items: [doc] });
  }

  /** `GET /connectionSpecs/{id}/configs?authType=IamBasedAuthentication` (API-NOTES §4.2). */
  private serveConfigs(ex: FlowsExchange, specId: string): void {
    if (specId !== AepIds.S3_SOURCE_CONNECTION_SPEC && specId !== AepIds.S3_DESTINATION_CONNECTION_SPEC) {
      this.host.reply(ex, 404, { errorCode: '404', errorMessage: `Connection spec ${specId} not found` });
      return;
    }
    if (specId !== AepIds.S3_SOURCE_CONNECTION_SPEC || ex.url.searchParams.get('authType') !== 'IamBasedAuthentication') {
      this.host.reject(ex, {
        status: 400,
        errorCode: '400',
        messages: ['stand-in only serves authType=IamBasedAuthentication configs of the S3 source connection spec'],
      });
      return;
    }
    this.host.reply(ex, 200, { configParams: { IAMRole: this.iamRoleArn } });
  }
}
