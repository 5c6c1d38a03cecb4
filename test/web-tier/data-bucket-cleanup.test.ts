/**
 * The data bucket's fate as the template says it: outside production, a Custom::DataBucketCleanup of the platform's
 * function empties it on the stack's deletion and the bucket is deleted; in production it is retained and nothing can
 * empty it. The bucket keeps its logical id either way.
 */
import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { logicalId, synth, synthProduction } from './fixture';

const CLEANUP = 'Custom::DataBucketCleanup';

function withToken(production: boolean) {
  const props = ({ platform }: any) => ({ amiParameterServiceToken: platform.environmentResourcesServiceToken });
  return production ? synthProduction(props) : synth(props);
}

test('outside production: the bucket is deleted with the stack, after a cleanup of its own stack and bucket', () => {
  const s = withToken(false);
  const resources = s.template.toJSON().Resources;
  const bucketId = logicalId(s.web.dataBucket);
  expect(bucketId).toBe('WebDataBucketF865F87B');
  expect(resources[bucketId]).toMatchObject({ DeletionPolicy: 'Delete', UpdateReplacePolicy: 'Delete' });
  const cleanups = Object.entries(resources).filter(([, r]: [string, any]) => r.Type === CLEANUP);
  expect(cleanups).toHaveLength(1);
  const [cleanupId, cleanup] = cleanups[0] as [string, any];
  expect(cleanup.Properties).toEqual({
    ServiceToken: s.stack.resolve(s.platform.environmentResourcesServiceToken),
    BucketName: { Ref: bucketId },
    BucketLogicalId: bucketId,
  });
  expect(cleanup.DeletionPolicy).toBe('Delete');
  // Deleted before the bucket and its policy, after the instances' role and group (nothing writes once it ran).
  const policyId = Object.entries(resources).find(([, r]: [string, any]) => r.Type === 'AWS::S3::BucketPolicy')![0];
  expect(cleanup.DependsOn).toEqual(expect.arrayContaining([bucketId, policyId]));
  const dependsOnCleanup = (type: string) =>
    Object.values(resources).filter((r: any) => r.Type === type && (r.DependsOn ?? []).includes(cleanupId)).length;
  expect(dependsOnCleanup('AWS::IAM::Role')).toBe(1);
  expect(dependsOnCleanup('AWS::AutoScaling::AutoScalingGroup')).toBe(1);
});

test("outside production: the bucket's policy lets the platform's function alone list and delete its versions", () => {
  const s = withToken(false);
  const resources = s.template.toJSON().Resources;
  const bucketId = logicalId(s.web.dataBucket);
  const policy: any = Object.values(resources).find((r: any) => r.Type === 'AWS::S3::BucketPolicy');
  const statement = policy.Properties.PolicyDocument.Statement.find((x: any) => x.Sid === 'EmptiedOnStackDeletion');
  expect(statement).toEqual({
    Sid: 'EmptiedOnStackDeletion',
    Effect: 'Allow',
    Principal: { AWS: '*' },
    Action: ['s3:ListBucketVersions', 's3:DeleteObjectVersion', 's3:BypassGovernanceRetention'],
    Resource: [{ 'Fn::GetAtt': [bucketId, 'Arn'] }, { 'Fn::Join': ['', [{ 'Fn::GetAtt': [bucketId, 'Arn'] }, '/*']] }],
    Condition: {
      StringEquals: { 'aws:PrincipalAccount': '123456789012' },
      // The function's role: the platform names it as the function, whose ARN is the service token.
      ArnEquals: {
        'aws:PrincipalArn': {
          'Fn::Join': [
            '',
            [
              'arn:',
              { Ref: 'AWS::Partition' },
              ':iam::',
              { Ref: 'AWS::AccountId' },
              ':role/',
              {
                'Fn::Select': [6, { 'Fn::Split': [':', s.stack.resolve(s.platform.environmentResourcesServiceToken)] }],
              },
            ],
          ],
        },
      },
    },
  });
  // The sixth field of a function ARN is its name, and the platform's role carries that name.
  const platform = Template.fromStack(Stack.of(s.platform)).toJSON().Resources;
  const fn: any = Object.values(platform).find(
    (r: any) => r.Type === 'AWS::Lambda::Function' && /environment-resources$/.test(r.Properties.FunctionName ?? ''),
  );
  const roleId = fn.Properties.Role['Fn::GetAtt'][0];
  expect(platform[roleId].Properties.RoleName).toBe(fn.Properties.FunctionName);
  expect(`arn:aws:lambda:eu-west-1:123456789012:function:${fn.Properties.FunctionName}`.split(':')[6]).toBe(
    fn.Properties.FunctionName,
  );
  // No default retention: nothing written to the bucket is locked unless its writer asks.
  expect(resources[bucketId].Properties.ObjectLockEnabled).toBe(true);
  expect(resources[bucketId].Properties.ObjectLockConfiguration).toBeUndefined();
});

test('production: the bucket is retained, no cleanup and no grant to delete in it', () => {
  const s = withToken(true);
  const resources = s.template.toJSON().Resources;
  const bucketId = logicalId(s.web.dataBucket);
  expect(bucketId).toBe('WebDataBucketF865F87B');
  expect(resources[bucketId]).toMatchObject({ DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
  expect(Object.values(resources).filter((r: any) => r.Type === CLEANUP)).toEqual([]);
  expect(JSON.stringify(resources)).not.toContain('s3:DeleteObjectVersion');
});

test("without the platform's function (the L3 on its own) nothing is added: the bucket is deleted only when empty", () => {
  const s = synth();
  const resources = s.template.toJSON().Resources;
  expect(Object.values(resources).filter((r: any) => r.Type === CLEANUP)).toEqual([]);
  expect(resources[logicalId(s.web.dataBucket)].DeletionPolicy).toBe('Delete');
});
