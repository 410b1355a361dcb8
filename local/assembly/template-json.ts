/**
 * A template's text parsed, as the local mesh can read it: the local mesh walks a template's values by
 * recursion (intrinsics, deploy order, nested stacks), so a template that nests a few thousand levels
 * (a 1 MB template can nest half a million) would overflow the stack. Such a template is refused,
 * naming it, before it is parsed; the deepest CDK templates nest under 20 levels.
 */
import { nestsDeeperThan } from '../../shared/json-depth';
import { AssemblyScopeError } from './assembly-scope-error';
import type { Template } from './cloud-assembly';

/** Levels of arrays and objects a template may nest. */
const TEMPLATE_NESTING_MAX = 256;

/** `text` parsed; `what` names the template in a refusal (`the template <file>`). */
export function parseTemplate(text: Buffer, what: string): Template {
  if (nestsDeeperThan(text, TEMPLATE_NESTING_MAX)) {
    throw new AssemblyScopeError(
      `${what} nests deeper than ${TEMPLATE_NESTING_MAX} levels of arrays and objects, which no synthesized template does: synthesize the app again (npx cdk synth)`,
    );
  }
  try {
    return JSON.parse(text.toString('utf8')) as Template;
  } catch (err) {
    throw new AssemblyScopeError(`${what} is not JSON (${(err as Error).message})`);
  }
}
