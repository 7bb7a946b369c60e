import type { AepClient, AepRequestOptions } from '../../aep/aep-client';
import type { LiveConnectionSpec } from '../../aep/connection-specs';
import type { HttpResponse } from '../../aep/http';
import type { DoctorOptions } from '../args';

/**
 * The shapes every doctor check shares. A check is one small file exporting a {@link DoctorCheck};
 * `registry.ts` lists them in the order they run.
 */

/** Severity of one finding; `cannot-decide` is not "no problem": it makes the exit code non-zero. */
export type CheckStatus = 'ok' | 'info' | 'warning' | 'problem' | 'cannot-decide';

/** One finding of the doctor. */
export interface Check {
  /** Finding id, unique within a run (e.g. `orphans-OldStack`). */
  readonly id: string;
  /** The check that made it (a {@link DoctorCheck} id, named like Adobe's "Run and Operate" checks where they match). */
  readonly check: string;
  readonly status: CheckStatus;
  /** One line for a person. */
  readonly message: string;
  /** What the verdict rests on (ids, states, dates), for a ticket. */
  readonly evidence?: readonly string[];
  /** What to do about it. */
  readonly action?: string;
}

/** One auth or encryption param as the live spec declares it. */
export interface ParamReport {
  readonly name: string;
  readonly required: boolean;
  readonly secret: boolean;
  readonly readOnly: boolean;
  readonly enum?: readonly unknown[];
}

/** What the live AEP declares for one S3 connection spec. */
export interface SpecReport {
  readonly id: string;
  readonly name?: string;
  readonly authSpecs: ReadonlyArray<{ readonly name: string; readonly type?: string; readonly params: readonly ParamReport[] }>;
  readonly encryption?: {
    readonly name: string;
    readonly encryptionAlgo: readonly unknown[];
    readonly requestKey?: string;
    readonly problem?: string;
  };
  /** `permissionsInfo` (Adobe permissions the spec needs), as `manage: EnterpriseSource write`. */
  readonly permissions: readonly string[];
}

/** An AEP object carrying a cdk-aep-s3 marker. */
export interface MarkedItem {
  readonly collection: string;
  readonly id: string;
  readonly name?: string;
  readonly logicalId: string;
  readonly stackName: string;
  readonly stackUuid: string;
  /** The stack's region and account, from the marker (absent in markers of earlier versions). */
  readonly stackRegion?: string;
  readonly stackAccount?: string;
  readonly connectionSpecId?: string;
  /** The marker was retired: kept on purpose by `RemovalPolicy.RETAIN`. */
  readonly retained: boolean;
  /** Secret auth params in the listing: `masked` or `clear` (the value itself is never kept). */
  readonly secretParams?: Readonly<Record<string, 'masked' | 'clear'>>;
  /** Base connections: the auth spec (`Access Key`, `Assumed Role`, …). */
  readonly authSpecName?: string;
}

/** The trust of one role of a stack that Adobe's destinations account may assume. */
export interface DestinationRoleReport {
  readonly stackName: string;
  /** The role's logical id (its name is not reported: Adobe asks to keep it confidential). */
  readonly logicalId: string;
  /** The assumed-role destination connection(s) of the stack the role belongs to, when the logical ids tell. */
  readonly connectionIds: readonly string[];
  /** `sts:ExternalId` values the trust requires (empty: no condition). */
  readonly externalIds: readonly string[];
  /** `locked` to the credential's org, `any-org` (no condition), `other-org`, or `unreadable`. */
  readonly verdict: 'locked' | 'any-org' | 'other-org' | 'unreadable';
}

/** The objects of one stack and what CloudFormation says about it. */
export interface StackReport {
  readonly stackName: string;
  /** The stack id's last part (uuid) from the marker. */
  readonly stackUuid: string;
  /** The stack's region and account, from the marker (absent in markers of earlier versions). */
  readonly region?: string;
  readonly account?: string;
  /**
   * `exists`; `deleted` means orphaned objects; `failed-create` a stack left in
   * `ROLLBACK_COMPLETE` (its objects are leftovers no resource owns); `other-account` when the
   * marker names an account other than the doctor's credentials' (not checked); `unknown` when
   * the doctor cannot decide (CloudFormation did not answer, or a marker of an earlier version
   * that names no region or account and no stack here matches it).
   */
  readonly state: 'exists' | 'deleted' | 'failed-create' | 'other-account' | 'unknown';
  readonly detail: string;
  readonly items: readonly MarkedItem[];
}

/** A request detail Adobe's docs leave open (or contradict), and what the live data says. */
export interface Finding {
  readonly question: string;
  readonly topic: string;
  readonly settled: boolean;
  readonly answer: string;
}

/** The sandbox as a whole (from the listing the doctor makes anyway: no extra request). */
export interface SandboxView {
  /** Destination dataflows in the sandbox (all of them, not only ours) and AEP's limit per sandbox. */
  readonly destinations: { readonly used: number; readonly limit: number };
  /** Dataflows by state (`enabled`, `disabled`, …), all and ours. */
  readonly dataflows: { readonly all: Readonly<Record<string, number>>; readonly ours: Readonly<Record<string, number>> };
  /** Marked objects per owning stack (`<region>:<account>:<name>/<uuid>`, or `<name>/<uuid>` for old markers). */
  readonly objectsByStack: Readonly<Record<string, number>>;
  /** GET requests the listing took (100 items a page). */
  readonly listRequests: number;
}

/** What one check cost, counted as it ran. */
export interface CheckCost {
  readonly check: string;
  /** Flow Service requests (retries not counted). */
  readonly aepRequests: number;
  /** AWS API calls (CloudFormation, STS, IAM). */
  readonly awsRequests: number;
}

/** The whole report (the `--json` output; its shape is documented in the README). */
export interface DoctorReport {
  readonly sandbox: string;
  readonly flowServiceUrl: string;
  readonly imsUrl: string;
  readonly region?: string;
  readonly credential: { readonly source: string; readonly clientId?: string; readonly orgId?: string };
  readonly checks: Check[];
  readonly connectionSpecs: { destination?: SpecReport; source?: SpecReport };
  readonly iamRole?: string;
  readonly openQuestions: Finding[];
  readonly stacks: StackReport[];
  /** Roles of the listed live stacks that trust Adobe's destinations account, with their external-id verdict. */
  readonly destinationRoles: DestinationRoleReport[];
  /** Absent when the sandbox could not be listed. */
  sandboxView?: SandboxView;
  readonly costs: CheckCost[];
  exitCode: number;
}

/** A Flow Service object as listed (only the fields the checks read are typed). */
export interface ListedObject extends Record<string, unknown> {
  readonly id: string;
}

/** What the sandbox listing found, shared by the checks after it. */
export interface SandboxListing {
  readonly items: MarkedItem[];
  /** Every flow of the sandbox, by id. */
  readonly flows: ReadonlyMap<string, ListedObject>;
  readonly listed: number;
  readonly listRequests: number;
}

/** What a check is handed. */
export interface DoctorContext {
  readonly options: DoctorOptions;
  readonly env: Record<string, string | undefined>;
  readonly report: DoctorReport;
  /** The live connection specs read by the spec check (absent: could not be read). */
  readonly specs: Partial<Record<'source' | 'destination', LiveConnectionSpec>>;
  /** Set by the sandbox listing; undefined when it failed (checks that need it do nothing). */
  sandbox?: SandboxListing;
  /** The current time (epoch ms), one value for the whole run. */
  readonly now: number;
  /** The client itself (for helpers shared with the handler that take one); requests made through it are not counted. */
  readonly client: AepClient;
  /** Records a finding of this check. */
  add(id: string, status: CheckStatus, message: string, more?: { evidence?: readonly string[]; action?: string }): void;
  /** A Flow Service request through the handler's client, counted in this check's cost. */
  aep(method: 'GET', path: string, options?: AepRequestOptions): Promise<HttpResponse>;
  /** Counts AWS calls in this check's cost. */
  countAws(calls?: number): void;
}

/** One check: an id, a title, and a run that records findings through the context. */
export interface DoctorCheck {
  /** Kebab-case, named like Adobe's "Run and Operate" health checks where they match. */
  readonly id: string;
  /** What it looks at, for the usage text and README. */
  readonly title: string;
  run(ctx: DoctorContext): Promise<void>;
}
