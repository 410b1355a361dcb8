/**
 * Command lines the CLI prints for an operator to paste (`mesh check`'s fixes, `mesh rollback`'s advice),
 * with the AWS flags the command ran with: a fix printed against the local mesh must not reach AWS when
 * pasted, nor one printed for another region the default one.
 */
import type { AwsFlags } from './args';

/** A command line for `mesh ...` or `aws ...`. */
export type PasteableCommand = (tool: 'mesh' | 'aws', args: string) => string;

/** Pure: the command lines for these flags (`--mesh` for `mesh` only; `--region` and `--endpoint-url` for both). */
export function commandWith(flags: Pick<AwsFlags, 'mesh' | 'region' | 'endpointUrl'>): PasteableCommand {
  return (tool, args) => {
    const extra = [
      tool === 'mesh' && flags.mesh ? `--mesh ${flags.mesh}` : '',
      flags.region ? `--region ${flags.region}` : '',
      flags.endpointUrl ? `--endpoint-url ${flags.endpointUrl}` : '',
    ].filter(Boolean);
    return [tool, args, ...extra].join(' ');
  };
}
