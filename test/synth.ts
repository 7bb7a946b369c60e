import { Stack, Stage } from 'aws-cdk-lib';
import { Annotations, Template } from 'aws-cdk-lib/assertions';
import type { SynthesisMessage } from 'aws-cdk-lib/cx-api';

/**
 * The annotations of `stack` in the assembly its app already synthesized (e.g. for
 * `Template.fromStack`), or synthesizes once. `Annotations.fromStack` always synthesizes the whole
 * app again (`force: true`), which for a test that reads both the template and the messages of one
 * stack doubles the synth for the same messages: annotations live in the construct tree (added at
 * construction, by aspects or by validations, each once), so a second synth of an unchanged app
 * reports exactly what the first one wrote. Call it once the app is complete: adding constructs
 * after the synth makes `synth()` throw, but an annotation, suppression or aspect added afterwards
 * is not seen (the earlier assembly is returned), where `Annotations.fromStack` would synthesize it.
 */
export function annotationsOf(stack: Stack): Annotations {
  const stage = Stage.of(stack);
  if (!stage) throw new Error(`stack ${stack.node.path} is not in an App or Stage`);
  const messages = stage.synth().getStackArtifact(stack.artifactId).messages;
  // Annotations' constructor is private in the typings; fromStack calls it with exactly this list.
  return new (Annotations as unknown as new (m: SynthesisMessage[]) => Annotations)(messages);
}

/**
 * `Template.fromStack(stack)`, with the same dependency-cycle check in linear time. aws-cdk-lib's
 * check (assertions/lib/private/cyclic.js) walks every array twice (forEach, then Object.values),
 * so its cost doubles with each level of nested arrays: a folder path from a token nests the
 * scope expressions deeply enough for ~1 s of CPU per template. Here the template is reduced to
 * what that check reads, each resource's DependsOn and the Ref, Fn::GetAtt and Fn::Sub
 * expressions of its properties (collected once each, the same ones its walk stops at), and
 * aws-cdk-lib's own check runs on that: same dependencies, same verdict.
 */
export function cycleCheckedTemplate(stack: Stack): Template {
  const template = Template.fromStack(stack, { skipCyclicalDependenciesCheck: true }).toJSON();
  const skeleton = Object.fromEntries(Object.entries<any>(template.Resources ?? {}).map(([id, r]) => {
    const expressions: unknown[] = [];
    collectDependencyExpressions(r.Properties, expressions);
    return [id, { Type: r.Type, DependsOn: r.DependsOn, Properties: expressions }];
  }));
  Template.fromJSON({ Resources: skeleton });
  return Template.fromJSON(template, { skipCyclicalDependenciesCheck: true });
}

function collectDependencyExpressions(value: unknown, into: unknown[]): void {
  if (!value || typeof value !== 'object') return;
  if (Array.isArray(value)) {
    for (const v of value) collectDependencyExpressions(v, into);
    return;
  }
  const keys = Object.keys(value);
  if (keys.length === 1 && (keys[0] === 'Ref' || keys[0] === 'Fn::GetAtt' || keys[0] === 'Fn::Sub')) {
    into.push(value);
    return;
  }
  for (const v of Object.values(value)) collectDependencyExpressions(v, into);
}
