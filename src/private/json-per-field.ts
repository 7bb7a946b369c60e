import { IFragmentConcatenator, Lazy, Token, Tokenization } from 'aws-cdk-lib';

/**
 * `obj` as JSON text that CloudFormation assembles from one `Fn::Join` element per top-level key
 * (split further only where a value holds a deploy-time reference), instead of `toJsonString`'s
 * one escaped string holding every field. The text CloudFormation produces is the same byte for
 * byte; what changes is how a change reads in `cdk diff` and in a template diff: one field
 * changed, one line changed, and that line names the field.
 *
 * For JSON text in a string-typed CloudFormation property (an EventBridge target's `Input`, a
 * Lambda environment variable), which cannot hold a structured object. Values are strings
 * (literal, or holding references whose values need no JSON escaping: ids, ARNs) or objects of
 * literal strings.
 */
export function jsonPerField(obj: { [key: string]: unknown }): string {
  const keys = Object.keys(obj);
  const parts: unknown[] = [];
  const literal = (text: string) => {
    if (typeof parts[parts.length - 1] === 'string' && !Token.isUnresolved(parts[parts.length - 1])) parts[parts.length - 1] += text;
    else parts.push(text);
  };
  keys.forEach((key, i) => {
    if (i > 0) parts.push(''); // a new element for each field
    literal(`${i === 0 ? '{' : ''}${JSON.stringify(key)}:`);
    const value = obj[key];
    if (typeof value === 'string' && Token.isUnresolved(value)) {
      literal('"');
      for (const fragment of fragmentsOf(value)) {
        if (typeof fragment === 'string' && !Token.isUnresolved(fragment)) literal(JSON.stringify(fragment).slice(1, -1));
        else parts.push(fragment);
      }
      literal('"');
    } else {
      if (Token.isUnresolved(value) || JSON.stringify(value).includes('${Token[')) {
        throw new Error(`cdk-aep-s3: jsonPerField cannot place the reference in '${key}' (only string values may hold references)`);
      }
      literal(JSON.stringify(value));
    }
    literal(i === keys.length - 1 ? '}' : ',');
  });
  if (!keys.length) return '{}';
  // Not Fn.join: it would merge the adjacent literal elements back into one string.
  return Token.asString(Lazy.any({ produce: () => ({ 'Fn::Join': ['', parts.filter((p) => p !== '')] }) }));
}

/** The literal texts and the references of a string holding tokens, in order. */
function fragmentsOf(value: string): unknown[] {
  class Collected {
    constructor(readonly items: unknown[]) {}
  }
  const collect: IFragmentConcatenator = {
    join: (left: unknown, right: unknown) => new Collected([...(left instanceof Collected ? left.items : [left]), right]),
  };
  const joined: unknown = Tokenization.reverseString(value).join(collect);
  return (joined instanceof Collected ? joined.items : [joined]).filter((f) => f !== undefined && f !== '');
}
