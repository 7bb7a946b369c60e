/**
 * What EventBridge hands a rule's target for a scheduled event: the event itself
 * (`Scheduled Event` from `aws.events`, with the scheduled `time`), the target's constant `Input`,
 * or its `InputTransformer` (`InputPathsMap` of JSON paths into the event, `InputTemplate` with
 * `<name>` placeholders). EventBridge's documented substitution: a placeholder inside a quoted
 * string takes the value's text; outside quotes, a string value is inserted as a JSON string.
 */

/** The scheduled event EventBridge sends at `time` for the rule `ruleArn`. */
export function scheduledEvent(ruleArn: string, time: Date, account: string, region: string): Record<string, unknown> {
  return {
    'version': '0',
    'id': `scheduled-${time.getTime()}`,
    'detail-type': 'Scheduled Event',
    'source': 'aws.events',
    account,
    'time': time.toISOString().replace(/\.\d{3}Z$/, 'Z'),
    region,
    'resources': [ruleArn],
    'detail': {},
  };
}

/** The parts of an `AWS::Events::Rule` target that shape its payload. */
export interface RuleTarget {
  readonly Input?: unknown;
  readonly InputTransformer?: { readonly InputPathsMap?: Record<string, string>; readonly InputTemplate: string };
}

/** The payload the target receives; the event itself when the target sets neither. */
export function targetInput(target: RuleTarget, event: Record<string, unknown>): unknown {
  if (target.Input !== undefined) return JSON.parse(String(target.Input));
  if (target.InputTransformer === undefined) return event;
  const values: Record<string, unknown> = {};
  for (const [name, jsonPath] of Object.entries(target.InputTransformer.InputPathsMap ?? {})) {
    if (!/^\$(\.[A-Za-z0-9_-]+)*$/.test(jsonPath)) throw new Error(`InputPathsMap ${name}: only simple $.a.b paths are modelled (${jsonPath})`);
    values[name] = jsonPath.split('.').slice(1).reduce<unknown>((v, key) => (v && typeof v === 'object' ? (v as Record<string, unknown>)[key] : undefined), event);
  }
  let inString = false;
  let out = '';
  const template = target.InputTransformer.InputTemplate;
  for (let i = 0; i < template.length; i++) {
    const ch = template[i];
    if (ch === '"' && template[i - 1] !== '\\') inString = !inString;
    const match = ch === '<' ? /^<([A-Za-z0-9_.-]+)>/.exec(template.slice(i)) : null;
    if (match && match[1] in values) {
      const value = values[match[1]];
      out += inString ? String(value) : JSON.stringify(value);
      i += match[0].length - 1;
      continue;
    }
    out += ch;
  }
  return JSON.parse(out);
}
