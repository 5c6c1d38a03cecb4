import { RemovalPolicy } from 'aws-cdk-lib';
import * as codebuild from 'aws-cdk-lib/aws-codebuild';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import type { SoftwareDeliveryPipelineProps } from './software-delivery-pipeline';

/** The standard CodeBuild image (Ubuntu 24.04); aws-cdk-lib's constant for it is newer than the floor. */
const STANDARD_BUILD_IMAGE = 'aws/codebuild/standard:8.0';

/** Internal: what the build is made from. */
export interface BuildContext {
  readonly props: SoftwareDeliveryPipelineProps;
  readonly production: boolean;
  readonly label: string;
  /** The artifacts bucket's key, which encrypts the build logs. */
  readonly key: kms.IKey;
  /** The same key, with grants for its use through S3 only (pipelineArtifacts). */
  readonly artifactsKey: kms.IKey;
}

/**
 * Internal: the build, in the pipeline's scope: its log group and the CodeBuild project that runs the repository's
 * own `buildspec.yml`.
 */
export function createBuild(
  scope: Construct,
  context: BuildContext,
): { logGroup: logs.LogGroup; project: codebuild.PipelineProject } {
  const { props, production, label, key, artifactsKey } = context;
  const logGroup = new logs.LogGroup(scope, 'BuildLogs', {
    retention: props.logRetention ?? logs.RetentionDays.ONE_YEAR,
    encryptionKey: key,
    removalPolicy: production ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
  });
  const buildImage = props.buildImage
    ? codebuild.LinuxBuildImage.fromEcrRepository(props.buildImage.ecrRepository, props.buildImage.tag ?? 'latest')
    : codebuild.LinuxBuildImage.fromCodeBuildImageId(STANDARD_BUILD_IMAGE);
  const project = new codebuild.PipelineProject(scope, 'Build', {
    // "_": no customer name holds one, so the report groups it may write, <project>-*, are of this project only
    // (with "-", acme-staging-software-* would also match customer acme-staging-software-x's project).
    projectName: `${label}_software`,
    description: `Builds the software of ${label} with the buildspec.yml of its repository`,
    // The customer's own file: phases, reports and artifacts (with appspec.yml at their root) are theirs.
    buildSpec: codebuild.BuildSpec.fromSourceFilename('buildspec.yml'),
    environment: {
      buildImage,
      computeType: codebuild.ComputeType.SMALL,
      privileged: false,
      environmentVariables: {
        VENDING_CUSTOMER: { value: props.customer },
        VENDING_ENVIRONMENT: { value: props.environment },
      },
    },
    encryptionKey: artifactsKey, // grants on it: through S3 only
    logging: { cloudWatch: { logGroup } },
    // Test reports of the buildspec's `reports` section: report groups named <project>-*, of this project only.
    grantReportGroupPermissions: true,
  });
  return { logGroup, project };
}
