/**
 * The platform's environment-resources function: the ONE Lambda function behind the custom resources of customer
 * stacks other than listener rules (a direct Lambda ServiceToken, no Provider framework), so that customer stacks
 * hold no function of their own.
 *
 * - `Custom::WebAmiParameter` (ami-parameter-handler.ts): the web tier's image parameter, created once and never
 *   written again by CloudFormation.
 * - `Custom::DataBucketCleanup` (bucket-cleanup-handler.ts): a non-production data bucket emptied when its stack is
 *   deleted, so that CloudFormation can delete the bucket.
 *
 * Always answers: any error becomes FAILED with its message; a Create that failed answers with a placeholder
 * physical id, whose Delete does nothing. Environment: AWS_ENDPOINT_URL (honoured by the AWS SDK) points the clients
 * elsewhere, e.g. at moto in the tests.
 */
import { CloudFormation } from '@aws-sdk/client-cloudformation';
import { S3 } from '@aws-sdk/client-s3';
import { SSM } from '@aws-sdk/client-ssm';
import { AmiParameterRequest, handleAmiParameter } from './ami-parameter-handler';
import { DataBucketCleanupRequest, handleDataBucketCleanup } from './bucket-cleanup-handler';
import { AMI_PARAMETER_RESOURCE_TYPE, DATA_BUCKET_CLEANUP_RESOURCE_TYPE } from './environment-resource-types';
import { CfnRequest, httpResponseSender, truncateReason } from '../shared-alb-rule/cfn-response';

const FAILED_PLACEHOLDER = 'failed-to-create';
const ssm = new SSM({ maxAttempts: 5 });
const s3 = new S3({ maxAttempts: 5 });
const cloudFormation = new CloudFormation({ maxAttempts: 5 });
const send = httpResponseSender();

export async function handler(request: CfnRequest, context?: { getRemainingTimeInMillis?: () => number }) {
  const until = context?.getRemainingTimeInMillis ? Date.now() + context.getRemainingTimeInMillis() - 500 : undefined;
  let physicalResourceId = request.PhysicalResourceId ?? FAILED_PLACEHOLDER;
  let status: 'SUCCESS' | 'FAILED' = 'SUCCESS';
  let reason: string | undefined;
  let data: Record<string, string> | undefined;
  try {
    let result: { physicalResourceId: string; action: string; deleted?: number };
    if (request.ResourceType === AMI_PARAMETER_RESOURCE_TYPE) {
      result = await handleAmiParameter(ssm, request as unknown as AmiParameterRequest);
    } else if (request.ResourceType === DATA_BUCKET_CLEANUP_RESOURCE_TYPE) {
      // Time to answer CloudFormation is kept back from the deadline.
      const deadline = until === undefined ? undefined : until - 5_000;
      result = await handleDataBucketCleanup(
        s3,
        cloudFormation,
        request as unknown as DataBucketCleanupRequest,
        deadline,
      );
    } else {
      throw new Error(
        `environment-resources: ResourceType: received ${JSON.stringify(request.ResourceType)}; expected ` +
          `${AMI_PARAMETER_RESOURCE_TYPE} or ${DATA_BUCKET_CLEANUP_RESOURCE_TYPE}`,
      );
    }
    physicalResourceId = result.physicalResourceId;
    data = { Action: result.action };
    console.log(JSON.stringify({ request: request.RequestType, resource: request.LogicalResourceId, ...result }));
  } catch (error) {
    status = 'FAILED';
    reason = truncateReason(error instanceof Error ? error.message : String(error));
    console.log(JSON.stringify({ request: request.RequestType, resource: request.LogicalResourceId, failed: reason }));
  }
  await send(
    request.ResponseURL,
    {
      Status: status,
      Reason: reason,
      PhysicalResourceId: physicalResourceId,
      StackId: request.StackId,
      RequestId: request.RequestId,
      LogicalResourceId: request.LogicalResourceId,
      Data: data,
    },
    until,
  );
  return { Status: status, PhysicalResourceId: physicalResourceId, Reason: reason };
}
