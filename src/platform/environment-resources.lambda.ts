/**
 * The platform's environment-resources function: the ONE Lambda function behind the custom resources of customer
 * stacks other than listener rules (a direct Lambda ServiceToken, no Provider framework), so that customer stacks
 * hold no function of their own.
 *
 * - `Custom::WebAmiParameter` (ami-parameter-handler.ts): the web tier's image parameter, created once and never
 *   written again by CloudFormation.
 *
 * Always answers: any error becomes FAILED with its message; a Create that failed answers with a placeholder
 * physical id, whose Delete does nothing. Environment: AWS_ENDPOINT_URL (honoured by the AWS SDK) points the clients
 * elsewhere, e.g. at moto in the tests.
 */
import { SSM } from '@aws-sdk/client-ssm';
import { AmiParameterRequest, handleAmiParameter } from './ami-parameter-handler';
import { AMI_PARAMETER_RESOURCE_TYPE } from './environment-resource-types';
import { CfnRequest, httpResponseSender, truncateReason } from '../shared-alb-rule/cfn-response';

const FAILED_PLACEHOLDER = 'failed-to-create';
const ssm = new SSM({ maxAttempts: 5 });
const send = httpResponseSender();

export async function handler(request: CfnRequest, context?: { getRemainingTimeInMillis?: () => number }) {
  const until = context?.getRemainingTimeInMillis ? Date.now() + context.getRemainingTimeInMillis() - 500 : undefined;
  let physicalResourceId = request.PhysicalResourceId ?? FAILED_PLACEHOLDER;
  let status: 'SUCCESS' | 'FAILED' = 'SUCCESS';
  let reason: string | undefined;
  let data: Record<string, string> | undefined;
  try {
    if (request.ResourceType !== AMI_PARAMETER_RESOURCE_TYPE) {
      throw new Error(
        `environment-resources: ResourceType: received ${JSON.stringify(request.ResourceType)}; expected ` +
          AMI_PARAMETER_RESOURCE_TYPE,
      );
    }
    const result = await handleAmiParameter(ssm, request as unknown as AmiParameterRequest);
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
