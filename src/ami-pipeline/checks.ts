import { Duration, Token } from 'aws-cdk-lib';
import type { CustomerAmiPipelineProps } from './customer-ami-pipeline';
import { describeValue } from '../config/errors';
import { scheduleExpressionProblem } from '../config/rules';
import { numberProblem, valueProblem } from '../config/values';
import { checkApprovalEmails } from '../pipeline-common/approval';

/** HashiCorp's published checksum of packer_1.14.2_linux_amd64.zip (releases.hashicorp.com SHA256SUMS). */
const DEFAULT_PACKER = {
  version: '1.14.2',
  sha256: 'cfefdea4ac580eba7b254ef34d25b756d4961741004e3e701a1476594d13e64a',
};

export function resolvePacker(where: string, props: CustomerAmiPipelineProps): { version: string; sha256: string } {
  if ((props.packerVersion === undefined) !== (props.packerSha256 === undefined)) {
    throw new Error(
      `${where}: packerVersion and packerSha256: received only ${props.packerVersion !== undefined ? 'packerVersion' : 'packerSha256'}; expected both (a checksum belongs to one version) or neither`,
    );
  }
  const version = props.packerVersion ?? DEFAULT_PACKER.version;
  const sha256 = props.packerSha256 ?? DEFAULT_PACKER.sha256;
  if (!/^\d+\.\d+\.\d+$/.test(version)) {
    throw new Error(`${where}: packerVersion: received ${describeValue(version)}; expected a release such as 1.14.2`);
  }
  if (!/^[0-9a-f]{64}$/.test(sha256)) {
    throw new Error(
      `${where}: packerSha256: received ${describeValue(sha256)}; expected 64 lower-case hex digits from packer_${version}_SHA256SUMS`,
    );
  }
  return { version, sha256 };
}

export function validate(
  where: string,
  props: CustomerAmiPipelineProps,
  production: boolean,
  keepImages: number,
  timeout: Duration,
): void {
  for (const prop of ['customer', 'environment'] as const) {
    const problem = valueProblem(prop, props[prop]);
    if (problem) throw new Error(`${where}: ${prop}: ${problem}`);
  }
  const images = numberProblem('keepImages', keepImages);
  if (images) throw new Error(`${where}: keepImages: ${images} (the image in use is always kept too)`);
  if (props.rebuildSchedule !== undefined && props.rebuildOnSchedule === false) {
    throw new Error(
      `${where}: rebuildSchedule: received a schedule with rebuildOnSchedule false; expected one of them (a schedule, or no periodic rebuilds)`,
    );
  }
  if (props.rebuildSchedule !== undefined && !Token.isUnresolved(props.rebuildSchedule.expressionString)) {
    const problem = scheduleExpressionProblem(props.rebuildSchedule.expressionString);
    if (problem) throw new Error(`${where}: rebuildSchedule: ${problem}`);
  }
  const hours = timeout.toMinutes() / 60;
  if (hours < 1 || hours > 12) {
    throw new Error(
      `${where}: buildTimeout: received ${timeout.toHumanString()}; expected 1 to 12 hours (the build role's session lasts as long)`,
    );
  }
  const healthy = props.minHealthyPercentage;
  if (healthy !== undefined && (!Number.isInteger(healthy) || healthy < 0 || healthy > 100)) {
    throw new Error(
      `${where}: minHealthyPercentage: received ${describeValue(healthy)}; expected a whole number from 0 to 100`,
    );
  }
  checkApprovalEmails(where, props.approvalEmails, production, 'images');
}
