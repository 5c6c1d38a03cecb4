import { Token } from 'aws-cdk-lib';
import { describeValue } from '../config/errors';

/**
 * The extra batch of a deployment with an additional batch (Elastic Beanstalk's "rolling with additional batch"):
 * before CodeDeploy updates anything, the Auto Scaling group grows by this batch; CodeDeploy then updates a batch of
 * this size at a time while as many instances as ran before stay in service, and the group shrinks back afterwards.
 */
export class AdditionalBatch {
  /** A batch of `instances` instances (at least 1, at most 100). */
  public static count(instances: number): AdditionalBatch {
    return new AdditionalBatch(instances, undefined);
  }

  /**
   * A batch of `percent` percent of the instances running when the deployment starts, rounded up, and one instance
   * at least (1 to 99).
   */
  public static percentage(percent: number): AdditionalBatch {
    return new AdditionalBatch(undefined, percent);
  }

  /** The batch as a count of instances, when it is one. */
  public readonly instances?: number;
  /** The batch as a share of the running instances, in percent, when it is one. */
  public readonly percent?: number;

  private constructor(instances: number | undefined, percent: number | undefined) {
    this.instances = instances;
    this.percent = percent;
  }

  /**
   * @internal The problem of the batch, in the words of the prop `where` names; undefined when it is valid (a token is
   * not checked).
   */
  public _problem(): string | undefined {
    const value = this.instances ?? this.percent;
    if (value === undefined || Token.isUnresolved(value)) return undefined;
    const [low, high] = this.instances !== undefined ? [1, 100] : [1, 99];
    if (!Number.isInteger(value) || value < low || value > high) {
      const what = this.instances !== undefined ? 'AdditionalBatch.count' : 'AdditionalBatch.percentage';
      return `received ${what}(${describeValue(value)}); expected a whole number from ${low} to ${high}`;
    }
    return undefined;
  }

  /**
   * @internal The extra instances for each number of running instances, 0 to 100 (the largest group a config
   * allows): the state machine reads its batch from this list, since Step Functions has no multiplication.
   */
  public _sizes(): number[] {
    const sizes: number[] = [];
    for (let running = 0; running <= 100; running++) {
      sizes.push(this.instances ?? Math.max(1, Math.ceil((running * (this.percent ?? 0)) / 100)));
    }
    return sizes;
  }
}
