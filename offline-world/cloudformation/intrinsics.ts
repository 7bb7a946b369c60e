/**
 * Resolves the CloudFormation intrinsics our synthesized templates use (Ref, Fn::GetAtt,
 * Fn::Join, Fn::Sub, Fn::Select, Fn::Split, Fn::If on no conditions) against simulated values.
 * Anything else is an error: the lifecycle driver must never guess.
 */

/** Looks up a resource's Ref value or attribute (or a pseudo parameter). */
export interface IntrinsicContext {
  ref(logicalId: string): string;
  getAtt(logicalId: string, attribute: string): string;
}

/** Logical ids a template value references (Ref, GetAtt, `${X}` / `${X.Attr}` in Sub). */
export function references(value: unknown, out: Set<string> = new Set()): Set<string> {
  if (Array.isArray(value)) {
    value.forEach((v) => references(v, out));
  } else if (value && typeof value === 'object') {
    const obj = value as Record<string, unknown>;
    const keys = Object.keys(obj);
    if (keys.length === 1 && keys[0] === 'Ref' && typeof obj.Ref === 'string') {
      if (!obj.Ref.startsWith('AWS::')) out.add(obj.Ref);
    } else if (keys.length === 1 && keys[0] === 'Fn::GetAtt') {
      const att = obj['Fn::GetAtt'];
      out.add(Array.isArray(att) ? String(att[0]) : String(att).split('.')[0]);
    } else if (keys.length === 1 && keys[0] === 'Fn::Sub') {
      const sub = obj['Fn::Sub'];
      const text = Array.isArray(sub) ? String(sub[0]) : String(sub);
      const vars = Array.isArray(sub) ? Object.keys((sub[1] ?? {}) as object) : [];
      for (const m of text.matchAll(/\$\{([^}!]+)\}/g)) {
        const name = m[1].split('.')[0];
        if (!name.startsWith('AWS::') && !vars.includes(name)) out.add(name);
      }
      if (Array.isArray(sub)) references(sub[1], out);
    } else {
      Object.values(obj).forEach((v) => references(v, out));
    }
  }
  return out;
}

/** Deeply resolves a template value. */
export function resolve(value: unknown, ctx: IntrinsicContext): unknown {
  if (Array.isArray(value)) return value.map((v) => resolve(v, ctx));
  if (!value || typeof value !== 'object') return value;
  const obj = value as Record<string, unknown>;
  const keys = Object.keys(obj);
  if (keys.length === 1 && keys[0].startsWith('Fn::') || keys.length === 1 && keys[0] === 'Ref') {
    const fn = keys[0];
    const arg = obj[fn];
    switch (fn) {
      case 'Ref':
        return ctx.ref(String(arg));
      case 'Fn::GetAtt': {
        const [id, ...attr] = Array.isArray(arg) ? arg.map(String) : String(arg).split('.');
        return ctx.getAtt(id, attr.join('.'));
      }
      case 'Fn::Join': {
        const [sep, parts] = arg as [string, unknown[]];
        return (resolve(parts, ctx) as unknown[]).map(String).join(sep);
      }
      case 'Fn::Select': {
        const [index, list] = arg as [unknown, unknown];
        return (resolve(list, ctx) as unknown[])[Number(resolve(index, ctx))];
      }
      case 'Fn::Split': {
        const [sep, text] = arg as [string, unknown];
        return String(resolve(text, ctx)).split(sep);
      }
      case 'Fn::Sub': {
        const [text, vars] = Array.isArray(arg) ? arg as [string, Record<string, unknown>] : [String(arg), {}];
        const resolvedVars = resolve(vars, ctx) as Record<string, unknown>;
        return text.replace(/\$\{([^}]+)\}/g, (_m, name: string) => {
          if (name.startsWith('!')) return '${' + name.substring(1) + '}';
          if (name in resolvedVars) return String(resolvedVars[name]);
          const [id, ...attr] = name.split('.');
          return attr.length ? ctx.getAtt(id, attr.join('.')) : ctx.ref(id);
        });
      }
      default:
        throw new Error(`lifecycle driver: unsupported intrinsic ${fn} in ${JSON.stringify(value)}`);
    }
  }
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(obj)) out[k] = resolve(v, ctx);
  return out;
}

/** Topological order of the template's resources (dependencies first; ties by logical id). */
export function deploymentOrder(resources: Record<string, any>): string[] {
  const deps = new Map<string, Set<string>>();
  for (const [id, res] of Object.entries(resources)) {
    const set = references(res.Properties ?? {});
    for (const d of [res.DependsOn ?? []].flat()) set.add(String(d));
    deps.set(id, new Set([...set].filter((d) => d in resources)));
  }
  const order: string[] = [];
  const done = new Set<string>();
  const visiting = new Set<string>();
  const visit = (id: string) => {
    if (done.has(id)) return;
    if (visiting.has(id)) throw new Error(`lifecycle driver: dependency cycle at ${id}`);
    visiting.add(id);
    for (const d of [...deps.get(id)!].sort()) visit(d);
    visiting.delete(id);
    done.add(id);
    order.push(id);
  };
  Object.keys(resources).sort().forEach(visit);
  return order;
}

/**
 * Resolves CloudFormation's Secrets Manager dynamic references in every string of `value`
 * (`{{resolve:secretsmanager:<secret-id>:SecretString:<json-key>:<stage>:<version>}}`, as
 * `SecretValue.secretsManager` renders them), with the value `read` returns for the secret id.
 * CloudFormation resolves them itself while it creates the resource: the value never appears in
 * the template.
 */
export function resolveDynamicReferences(value: unknown, read: (secretId: string) => string | undefined): unknown {
  if (typeof value === 'string') {
    return value.replace(/\{\{resolve:secretsmanager:(.+?)(?::SecretString:([^:}]*)(?::[^:}]*(?::[^:}]*)?)?)?\}\}/g, (_m, id: string, key?: string) => {
      const text = read(id);
      if (text === undefined) throw new Error(`Secrets Manager can't find the specified secret (dynamic reference to ${id})`);
      if (!key) return text;
      const field = JSON.parse(text)[key];
      if (field === undefined) throw new Error(`Could not find SecretString key ${key} in secret ${id}`);
      return typeof field === 'string' ? field : JSON.stringify(field);
    });
  }
  if (Array.isArray(value)) return value.map((v) => resolveDynamicReferences(v, read));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, resolveDynamicReferences(v, read)]));
  }
  return value;
}
