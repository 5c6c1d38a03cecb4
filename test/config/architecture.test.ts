import { messages, platform, stagingCustomer } from './fixtures';
import { ConfigLoader } from '../../src';

/* One architecture: the web servers' instance type decides the base image and the bake instance. */

const withCompute = (instanceType: string, ami?: any) => ({
  ...stagingCustomer(),
  compute: { instanceType },
  ...(ami ? { ami } : {}),
});
const load = (doc: any) =>
  ConfigLoader.parseCustomer(JSON.stringify(doc), 'acme-staging.yaml', { platform: platform() });

describe('one architecture', () => {
  test('a Graviton instance type bakes arm64, on an arm64 build instance, from an arm64 base image', () => {
    const config = load(withCompute('t4g.small'));
    expect(config.ami?.buildInstanceType).toBe('t4g.small');
    expect(config.ami?.baseImage).toEqual({
      ssmParameter: '/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-arm64',
    });
  });

  test('an x86 instance type keeps the x86_64 defaults', () => {
    const config = load(withCompute('m7i.large'));
    expect(config.ami?.buildInstanceType).toBe('t3.small');
    expect(config.ami?.baseImage).toEqual({
      ssmParameter: '/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64',
    });
  });

  test('a build instance or base image of another architecture is a config error', () => {
    expect(
      messages(() =>
        load(
          withCompute('t4g.small', {
            buildInstanceType: 't3.small',
            baseImage: { ssmParameter: '/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64' },
          }),
        ),
      ),
    ).toEqual([
      'ami.buildInstanceType: received "t3.small" (x86_64) for web servers of type t4g.small (arm64); expected a build instance of the same architecture, such as t4g.small',
      'ami.baseImage.ssmParameter: received "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64" (x86_64) for web servers of type t4g.small (arm64); expected an arm64 image, such as /aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-arm64',
    ]);
    expect(
      messages(() =>
        load(
          withCompute('t3.small', { baseImage: { amiNameFilter: 'al2023-ami-2023.*-arm64', amiOwners: ['amazon'] } }),
        ),
      ),
    ).toEqual([
      'ami.baseImage.amiNameFilter: received "al2023-ami-2023.*-arm64" (arm64) for web servers of type t3.small (x86_64); expected an x86_64 image, such as al2023-ami-2023.*-x86_64',
    ]);
  });

  test('both set, of the same architecture: taken as written', () => {
    const ami = {
      buildInstanceType: 'c7g.large',
      baseImage: { amiNameFilter: 'my-arm64-base-*', amiOwners: ['self'] },
    };
    const config = load(withCompute('m7g.large', ami));
    expect(config.ami?.buildInstanceType).toBe('c7g.large');
    expect(config.ami?.baseImage).toEqual(ami.baseImage);
  });
});
