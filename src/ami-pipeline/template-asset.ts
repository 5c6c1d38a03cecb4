import { createHash } from 'crypto';
import { copyFileSync, mkdirSync, readdirSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { PackerTemplate } from './packer-template';
import { AMI_PIPELINE_SCRIPTS } from './scripts';

/** Writes the rendered template and the bake's scripts to a directory named by their content. */
export function templateDirectory(template: PackerTemplate): string {
  const files = template.files();
  const scripts = readdirSync(AMI_PIPELINE_SCRIPTS).filter((name) => name.endsWith('.sh'));
  const digest = createHash('sha256')
    .update(JSON.stringify(files))
    .update(scripts.join(','))
    .digest('hex')
    .slice(0, 32);
  const directory = join(tmpdir(), 'cdk-paas-vending', `packer-${digest}`);
  mkdirSync(directory, { recursive: true });
  for (const file of files) writeFileSync(join(directory, file.fileName), file.content);
  for (const script of scripts) copyFileSync(join(AMI_PIPELINE_SCRIPTS, script), join(directory, script));
  return directory;
}
