/*
 * The config file contract, continued: `quotas:` in the platform file, the AWS quotas an account has raised.
 * Tags as in types.ts. What each quota counts and its AWS default are in src/environment/quotas.ts.
 */

/**
 * The AWS quotas of the platform's account and region that a fleet is checked against before deploy, where the
 * account has them raised (or lowered, to keep room for what else the account holds). A quota left out is AWS's
 * default. `paas-vending validate` and `synth` fail when the fleet would need more than one of these.
 */
export interface AccountQuotas {
  /**
   * IAM roles in the account (IAM: Roles per account).
   * @minimum 1
   * @maximum 1000000
   * @asType integer
   * @default 1000
   */
  readonly iamRoles?: number;
  /**
   * CodePipeline pipelines in the region (CodePipeline: Number of pipelines per Region).
   * @minimum 1
   * @maximum 1000000
   * @asType integer
   * @default 1000
   */
  readonly pipelines?: number;
  /**
   * RDS DB instances in the region, Aurora's included (RDS: DB instances).
   * @minimum 1
   * @maximum 1000000
   * @asType integer
   * @default 40
   */
  readonly dbInstances?: number;
  /**
   * Aurora DB clusters in the region (RDS: DB clusters).
   * @minimum 1
   * @maximum 1000000
   * @asType integer
   * @default 40
   */
  readonly dbClusters?: number;
  /**
   * Application Load Balancers in the region (Elastic Load Balancing: Application Load Balancers per Region).
   * @minimum 1
   * @maximum 1000000
   * @asType integer
   * @default 50
   */
  readonly loadBalancers?: number;
  /**
   * Target groups in the region (Elastic Load Balancing: Target Groups per Region).
   * @minimum 1
   * @maximum 1000000
   * @asType integer
   * @default 3000
   */
  readonly targetGroups?: number;
  /**
   * Listener rules on one load balancer, its default rules not counted (Elastic Load Balancing: Rules per
   * Application Load Balancer).
   * @minimum 1
   * @maximum 1000000
   * @asType integer
   * @default 100
   */
  readonly rulesPerLoadBalancer?: number;
  /**
   * Certificates on one load balancer, its default certificate not counted (Elastic Load Balancing: Certificates
   * per Application Load Balancer).
   * @minimum 1
   * @maximum 1000000
   * @asType integer
   * @default 25
   */
  readonly certificatesPerLoadBalancer?: number;
  /**
   * Security groups in the region (Amazon VPC: VPC security groups per Region).
   * @minimum 1
   * @maximum 1000000
   * @asType integer
   * @default 2500
   */
  readonly securityGroups?: number;
  /**
   * CloudFormation stacks in the region (CloudFormation: Stack count).
   * @minimum 1
   * @maximum 1000000
   * @asType integer
   * @default 2000
   */
  readonly stacks?: number;
  /**
   * CodeDeploy's custom deployment configurations in the region (CodeDeploy: Custom deployment configurations per
   * account; 50, not adjustable: set it lower to keep room for the account's other configurations).
   * @minimum 0
   * @maximum 50
   * @asType integer
   * @default 50
   */
  readonly customDeploymentConfigs?: number;
}
