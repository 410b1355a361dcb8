/**
 * Nested stacks (`AWS::CloudFormation::Stack` resources whose template is a file asset of the assembly)
 * are not run by the local mesh: it reads the top-level stacks' templates only. A nested stack that
 * holds functions of a mesh is refused, by name, rather than served as a mesh without those services.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ENV } from '../../shared/names';

/** As much of a template as the check reads (cloud-assembly.ts's Template, which calls this). */
interface Template {
  readonly Resources?: Record<
    string,
    { Type: string; Properties?: Record<string, unknown>; Metadata?: Record<string, unknown> }
  >;
}

/** The mesh functions of a template, by their construct path (else logical id). */
function meshFunctionsOf(template: Template): string[] {
  return Object.entries(template.Resources ?? {})
    .filter(([, r]) => r.Type === 'AWS::Lambda::Function')
    .filter(([, r]) => {
      const vars = (r.Properties?.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables;
      return vars?.[ENV.meshName] !== undefined;
    })
    .map(([id, r]) => String(r.Metadata?.['aws:cdk:path'] ?? id).replace(/\/Resource$/, ''));
}

/**
 * Why the local mesh cannot serve `template`: a nested stack of it (at any depth) holds mesh functions;
 * the message names the stack, the functions and the way to run them locally. `root` is the assembly's
 * folder, where nested templates lie.
 */
export function nestedMeshFunctions(root: string, stackName: string, template: Template): string | undefined {
  for (const [id, r] of Object.entries(template.Resources ?? {})) {
    const file = r.Type === 'AWS::CloudFormation::Stack' ? r.Metadata?.['aws:asset:path'] : undefined;
    if (typeof file !== 'string' || !existsSync(join(root, file))) continue;
    const nested = JSON.parse(readFileSync(join(root, file), 'utf8')) as Template;
    const fns = meshFunctionsOf(nested);
    // CDK's path of the nested stack's resource, `<parent>/<id>.NestedStack/<id>.NestedStackResource`.
    const path = String(r.Metadata?.['aws:cdk:path'] ?? id).replace(/\.NestedStack\/.*$/, '');
    if (fns.length > 0) {
      return (
        `stack ${stackName}: the nested stack ${path} holds mesh functions (${fns.join(', ')}), which the local mesh does not run: ` +
        "it serves the functions of top-level stacks only. To run them locally, declare them in the mesh's stack itself (a mesh of up to about 40 services fits one template); deployed, the nested stacks work as declared"
      );
    }
    const deeper = nestedMeshFunctions(root, `${stackName}/${id}`, nested);
    if (deeper) return deeper;
  }
  return undefined;
}
