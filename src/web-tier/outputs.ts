import { CfnOutput } from 'aws-cdk-lib';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import { Construct } from 'constructs';
import { BuiltDatabase } from './database';

/** Internal: the web tier's URL and, when a load balancer is known, where its host names' DNS records point. */
export function addIngressOutputs(
  scope: Construct,
  label: string,
  url: string,
  loadBalancer: elbv2.IApplicationLoadBalancer | undefined,
): void {
  new CfnOutput(scope, 'Url', { value: url, description: `URL of ${label}` });
  if (loadBalancer) {
    // Where the host names' DNS records must point: with several shared load balancers, not the same for all.
    new CfnOutput(scope, 'LoadBalancerDnsName', {
      value: loadBalancer.loadBalancerDnsName,
      description: `Load balancer of ${label}: the target of its host names' DNS records (alias or CNAME)`,
    });
  }
}

/** Internal: the database's endpoint and the ARN of its master credentials. */
export function addDatabaseOutputs(scope: Construct, label: string, database: BuiltDatabase): void {
  new CfnOutput(scope, 'DatabaseEndpoint', { value: database.endpoint, description: `Database of ${label}` });
  new CfnOutput(scope, 'DatabasePort', {
    value: String(database.port),
    description: `Port of the database of ${label}`,
  });
  new CfnOutput(scope, 'DatabaseSecretArn', {
    value: database.secretArn,
    description: `Master credentials of the database of ${label}`,
  });
}
