/**
 * What the destructive-change gate counts as destroying something a connection stands on: the
 * one table of rules, kept apart from the comparer so it can later be read from the handler's own
 * pure decision table (issue 17 §1) instead of restating it.
 *
 * AEP custom resources: the handler, not CloudFormation, decides whether an Update keeps the AEP
 * object (a PATCH) or makes a new one (a new physical id; CloudFormation's cleanup deletes the
 * old object, and dataflows are re-created or re-pointed). It replaces when a field AEP cannot
 * patch changes (the object's "kind", src/handler/resources/*: `desiredKind`) or when the sandbox
 * changes (the object is not visible in the new sandbox). Credentials secret, endpoints, name,
 * description, auth params, schedules and target params are patched in place.
 *
 * IAM: CloudFormation's own replacement rules for the users, roles and access keys a connection
 * reads through its properties (AWS::IAM::User UserName, AWS::IAM::Role RoleName/Path,
 * AWS::IAM::AccessKey UserName/Serial: "Update requires: Replacement" in the resource reference).
 */

/** Why a change of one property replaces the resource (shown in the gate's message). */
export interface ReplacingProperty {
  readonly property: string;
  readonly why: string;
}

/** Rules of one resource type. */
export interface TypeRule {
  /** Properties whose change replaces the resource. */
  readonly replacingProperties: readonly ReplacingProperty[];
  /**
   * A replacement only when this returns true for the new properties (a dataset export flow is
   * re-pointed to a new source connection in place, other flows are replaced).
   */
  readonly replacesWhen?: { readonly [property: string]: (newProps: Record<string, unknown>) => boolean };
  /** What losing the resource means, for the message. */
  readonly consequence: string;
}

const SANDBOX: ReplacingProperty = { property: 'AepSandboxName', why: 'the sandbox changed: the object is not visible in the new sandbox, so a new one is made there' };

const BASE_CONNECTION_KIND: readonly ReplacingProperty[] = [
  SANDBOX,
  { property: 'ConnectionSpecId', why: 'AEP cannot change the connection spec of a connection' },
  { property: 'AuthSpecName', why: 'AEP cannot change the auth type of a connection (auth mode changed)' },
];

/** AEP custom resource types whose replacement or deletion the gate stops. */
export const AEP_RULES: { readonly [type: string]: TypeRule } = {
  'Custom::AepConnection': {
    replacingProperties: BASE_CONNECTION_KIND,
    consequence: 'a new AEP base connection id; the dataflows on it are re-created',
  },
  'Custom::AepDestinationConnection': {
    replacingProperties: BASE_CONNECTION_KIND,
    consequence: 'a new AEP connection pair (base + target); the destination\'s dataflows are re-created',
  },
  'Custom::AepTargetConnection': {
    replacingProperties: [SANDBOX,
      { property: 'ConnectionSpecId', why: 'AEP cannot change the connection spec of a target connection' },
      { property: 'BaseConnectionId', why: 'AEP cannot move a target connection to another base connection' }],
    consequence: 'a new AEP target connection id; dataflows are re-pointed or re-created',
  },
  'Custom::AepSourceConnection': {
    replacingProperties: [SANDBOX,
      { property: 'ConnectionSpecId', why: 'AEP cannot change the connection spec of a source connection' },
      { property: 'BaseConnectionId', why: 'AEP cannot move a source connection to another base connection' },
      { property: 'Data', why: 'AEP fixes a source connection\'s data block at creation' },
      { property: 'Params', why: 'AEP fixes a source connection\'s params (path, dataset) at creation' }],
    consequence: 'a new AEP source connection; its dataflow is re-created',
  },
  'Custom::AepDatasetTargetConnection': {
    replacingProperties: [SANDBOX,
      { property: 'ConnectionSpecId', why: 'AEP cannot change the connection spec of a target connection' },
      { property: 'Data', why: 'AEP fixes a dataset target connection\'s schema at creation' },
      { property: 'Params', why: 'AEP fixes a dataset target connection\'s dataset at creation' }],
    consequence: 'a new AEP dataset target connection; its dataflow is re-created',
  },
  'Custom::AepFlow': {
    replacingProperties: [SANDBOX,
      { property: 'SourceConnectionId', why: 'AEP cannot move a dataflow to another source connection' },
      { property: 'TargetConnectionId', why: 'AEP cannot move a dataflow to another target connection' }],
    replacesWhen: {
      // Dataset exports (their marker: DatasetSchedule) are re-pointed in place (`replace /sourceConnectionIds`).
      SourceConnectionId: (p) => p.DatasetSchedule === undefined,
    },
    consequence: 'a new AEP dataflow: its run history and monitoring start over',
  },
};

/**
 * AEP resource types left out on purpose: nothing in AEP is lost when they are replaced or removed
 * (a role lookup creates nothing; mapping sets cannot be deleted and a changed one is a new set the
 * flow is patched to).
 */
export const AEP_UNGATED_TYPES: readonly string[] = ['Custom::AepIamRoleLookup', 'Custom::AepMappingSet', 'Custom::AepProfileMapping'];

/** IAM resource types the gate follows from the AEP resources' properties. */
export const IAM_RULES: { readonly [type: string]: TypeRule } = {
  'AWS::IAM::User': {
    replacingProperties: [{ property: 'UserName', why: 'CloudFormation replaces a user whose UserName changes' }],
    consequence: 'the IAM user the connection authenticates as is deleted (its keys with it)',
  },
  'AWS::IAM::Role': {
    replacingProperties: [{ property: 'RoleName', why: 'CloudFormation replaces a role whose RoleName changes' },
      { property: 'Path', why: 'CloudFormation replaces a role whose Path changes' }],
    consequence: 'a new role ARN: AEP keeps assuming the old one until the connection is updated',
  },
  'AWS::IAM::AccessKey': {
    replacingProperties: [{ property: 'UserName', why: 'CloudFormation replaces an access key whose UserName changes' },
      { property: 'Serial', why: 'the key serial changed (a rotation: a new key, the old one deleted)' }],
    consequence: 'the access key AEP holds is deleted; the connection is patched with the new key',
  },
};

/** The rules of `type`, or undefined when the gate does not watch it. */
export function ruleOf(type: string): TypeRule | undefined {
  return AEP_RULES[type] ?? IAM_RULES[type];
}

/** Properties never followed from an AEP resource to what it depends on (the provider's function is not "what a connection depends on"). */
export const NOT_FOLLOWED_PROPERTIES: readonly string[] = ['ServiceToken'];
