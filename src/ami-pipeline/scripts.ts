import { join } from 'path';

/**
 * Directory of the shell scripts the AMI pipeline's bake runs: `pipeline-scripts/ami/` at the package root,
 * shipped in the npm package and copied into the asset beside the rendered Packer template.
 */
export const AMI_PIPELINE_SCRIPTS = join(__dirname, '..', '..', 'pipeline-scripts', 'ami');
