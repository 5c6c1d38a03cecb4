/*
 * The shared artifacts bucket and key as one pipeline sees them: grants on the folder only, the key through S3 only,
 * and nothing added to the key's own policy, which serves every customer of the platform.
 */
import { App, CfnElement, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { pipelineArtifacts } from '../../src/pipeline-common/artifacts';
import { policyStatementsOfRole } from '../web-tier/fixture';

/** A platform stack with its key and bucket, and a customer stack with a role and, optionally, the artifacts' grants. */
function build(grants: boolean) {
  const app = new App();
  const env = { account: '111111111111', region: 'eu-west-1' };
  const platform = new Stack(app, 'Platform', { env });
  const key = new kms.Key(platform, 'Key');
  const bucket = new s3.Bucket(platform, 'Artifacts', { encryptionKey: key, bucketName: 'vending-artifacts' });
  const customer = new Stack(app, 'Customer', { env });
  const role = new iam.Role(customer, 'Role', { assumedBy: new iam.ServicePrincipal('codebuild.amazonaws.com') });
  const artifacts = pipelineArtifacts(customer, 'software', 'acme', 'production', bucket, key);
  let added: iam.AddToResourcePolicyResult | undefined;
  if (grants) {
    artifacts.bucket.grantReadWrite(role);
    artifacts.key.grantEncryptDecrypt(role);
    artifacts.key.grantDecrypt(role);
    added = artifacts.key.addToResourcePolicy(
      new iam.PolicyStatement({ actions: ['kms:*'], principals: [new iam.AnyPrincipal()], resources: ['*'] }),
    );
  }
  return { platform, customer, key, artifacts, role, added };
}

describe('pipelineArtifacts', () => {
  test("adds nothing to the shared key's policy, and its key is the given key's ARN", () => {
    const without = build(false);
    const withGrants = build(true);
    expect(withGrants.added).toEqual({ statementAdded: false });
    // The platform's resources are the same (its outputs gain the exports the customer stack reads).
    expect(Template.fromStack(withGrants.platform).toJSON().Resources).toEqual(
      Template.fromStack(without.platform).toJSON().Resources,
    );
    expect(withGrants.artifacts.key.keyArn).toBe(withGrants.key.keyArn);
    // A view of the key, not a second construct in the customer stack.
    expect(withGrants.customer.node.tryFindChild('ArtifactsKey')).toBeUndefined();
  });

  test('every grant on the key is through S3 in the region, every grant on the bucket is for the folder', () => {
    const { customer, artifacts, role } = build(true);
    const statements = policyStatementsOfRole(
      Template.fromStack(customer),
      customer.getLogicalId(role.node.defaultChild as CfnElement),
    );
    const keyStatements = statements.filter((st: any) => [st.Action].flat().some((a: string) => a.startsWith('kms:')));
    // Decrypt alone, and Decrypt with Encrypt and GenerateDataKey (the bucket's and the key's grant, the same statement).
    expect(keyStatements.map((st: any) => st.Action)).toEqual(
      expect.arrayContaining(['kms:Decrypt', ['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey']]),
    );
    for (const statement of keyStatements) {
      expect(statement.Condition).toEqual({
        StringEquals: { 'kms:ViaService': { 'Fn::Join': ['', ['s3.eu-west-1.', { Ref: 'AWS::URLSuffix' }]] } },
      });
    }
    const objectStatements = statements.filter((st: any) => [st.Action].flat().includes('s3:GetObject'));
    expect(objectStatements).toHaveLength(1);
    expect(JSON.stringify(objectStatements[0].Resource)).toContain(`/${artifacts.prefix}*`);
    const list = statements.find((st: any) => st.Action === 's3:ListBucket');
    expect(list.Condition).toEqual({ StringLike: { 's3:prefix': [`${artifacts.prefix}*`] } });
  });
});
