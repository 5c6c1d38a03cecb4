import { CfnParameter, CfnParameterProps, Fn, IResolvable, IResolveContext, Token } from 'aws-cdk-lib';
import { Construct } from 'constructs';

/**
 * Internal: a CloudFormation parameter of the contract that appears in the template only when the template uses it: a
 * customer environment reads what it needs (a database reads the isolated subnets, a dedicated load balancer the
 * public ones), and an unused parameter would be flagged (W2001) and still have to exist at deploy time. Whether
 * it is used is known before the template is written: aws-cdk-lib resolves every element once while it prepares
 * the app (to find references between stacks), and each use of the parameter's value resolves a UseOf.
 */
export class ContractParameter extends CfnParameter {
  private used = false;
  private readonly ref: string;

  constructor(scope: Construct, id: string, props: CfnParameterProps) {
    super(scope, id, props);
    this.ref = Fn.ref(this.logicalId);
  }

  public override get valueAsString(): string {
    return Token.asString(new UseOf(this, () => this.ref));
  }

  public override get valueAsList(): string[] {
    return Token.asList(new UseOf(this, () => this.ref));
  }

  /** @internal */
  public _markUsed(): void {
    this.used = true;
  }

  /** @internal */
  public override _toCloudFormation(): object {
    return this.used ? super._toCloudFormation() : {};
  }
}

/** A use of a contract parameter's value: its Ref, and a mark that the template needs the parameter. */
class UseOf implements IResolvable {
  public readonly creationStack: string[] = [];

  constructor(
    private readonly parameter: ContractParameter,
    private readonly ref: () => string,
  ) {}

  public resolve(_context: IResolveContext): unknown {
    this.parameter._markUsed();
    return this.ref();
  }

  public toString(): string {
    return Token.asString(this);
  }
}
