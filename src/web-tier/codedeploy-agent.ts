import { Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';

/*
 * The CodeDeploy agent is part of what runs on a web tier's instances: CustomerWebTier installs it in its launch
 * template's user data, and SoftwareDeliveryPipeline, which deploys through it, only makes sure of it (for
 * instances of another web tier than this library's). Installed once per user data, whoever asks first.
 */

const INSTALLED = new WeakSet<ec2.UserData>();

/** Internal: adds the agent's installation to user data, unless it is there already. */
export function installCodeDeployAgent(userData: ec2.UserData, stack: Stack): void {
  if (INSTALLED.has(userData)) return;
  INSTALLED.add(userData);
  userData.addCommands(...codeDeployAgentCommands(stack));
}

/**
 * Installs the CodeDeploy agent on Amazon Linux 2023 at the first boot of an instance (unless the image has it):
 * Ruby from the distribution, then the installer from the region's `aws-codedeploy-<region>` bucket, over HTTPS
 * (a public bucket: no IAM permission needed), which installs and starts the agent of that region.
 */
function codeDeployAgentCommands(stack: Stack): string[] {
  const installer = `https://aws-codedeploy-${stack.region}.s3.${stack.region}.${stack.urlSuffix}/latest/install`;
  return [
    // The words of the first version: a change of user data replaces every instance of every fleet.
    '# CodeDeploy agent (SoftwareDeliveryPipeline)',
    'if ! rpm -q codedeploy-agent >/dev/null 2>&1; then',
    // A passing mirror or network error must not end the boot script (it runs under set -e): five tries each.
    '  for attempt in 1 2 3 4 5; do dnf install -y ruby && break; [ "$attempt" = 5 ] && exit 1; sleep 10; done',
    '  installer="$(mktemp)"',
    `  curl --fail --silent --show-error --location --retry 5 --retry-all-errors --retry-delay 5 --output "$installer" ${installer}`,
    '  chmod +x "$installer"',
    '  "$installer" auto',
    '  rm -f "$installer"',
    'fi',
    'systemctl enable --now codedeploy-agent',
  ];
}
