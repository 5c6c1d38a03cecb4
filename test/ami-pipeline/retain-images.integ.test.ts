/*
 * retain-images.sh, the AMI retention step of the bake, run for real with the AWS CLI against moto: it keeps
 * the newest images of the environment and the image the fleet runs, deregisters the others with their
 * snapshots, and never touches another environment's images.
 */
import { spawnSync } from 'child_process';
import { join } from 'path';
import {
  CreateImageCommand,
  DescribeImagesCommand,
  DescribeSnapshotsCommand,
  EC2Client,
  RunInstancesCommand,
} from '@aws-sdk/client-ec2';
import { AMI_PIPELINE_SCRIPTS } from '../../src/ami-pipeline/scripts';
import { MotoServer, startMoto } from '../support/moto';

const VENV_BIN = join(__dirname, '..', '..', '.venv', 'bin');
const PARAMETER = '/vending/acme/staging/ami-id';

let moto: MotoServer;
let ec2: EC2Client;

beforeAll(async () => {
  moto = await startMoto();
  ec2 = new EC2Client({ ...moto.clientConfig });
});
afterAll(async () => {
  ec2?.destroy();
  await moto?.stop();
});
beforeEach(async () => moto.reset());

function aws(args: string[]) {
  const result = spawnSync(join(VENV_BIN, 'aws'), args, { encoding: 'utf8', env: { ...process.env, ...moto.env } });
  if (result.status !== 0) throw new Error(`aws ${args.join(' ')} failed: ${result.stderr}`);
  return result.stdout;
}

function retain(keep: string, build = 'acme/staging') {
  return spawnSync('bash', [join(AMI_PIPELINE_SCRIPTS, 'retain-images.sh'), keep, build, PARAMETER], {
    encoding: 'utf8',
    // The script calls `aws` from PATH, as on a CodeBuild image.
    env: { ...process.env, ...moto.env, PATH: `${VENV_BIN}:${process.env.PATH}` },
  });
}

/** Bakes `count` images of a build, one second apart (EC2 creation dates have one-second resolution). */
async function bake(count: number, build: string): Promise<string[]> {
  const base = (await ec2.send(new DescribeImagesCommand({ Owners: ['amazon'] }))).Images![0].ImageId!;
  const images: string[] = [];
  for (let i = 0; i < count; i++) {
    const instance = (await ec2.send(new RunInstancesCommand({ ImageId: base, MinCount: 1, MaxCount: 1 })))
      .Instances![0].InstanceId!;
    const image = await ec2.send(
      new CreateImageCommand({
        InstanceId: instance,
        Name: `${build}-${i}`,
        TagSpecifications: [{ ResourceType: 'image', Tags: [{ Key: 'vending:packer-build', Value: build }] }],
      }),
    );
    images.push(image.ImageId!);
    await new Promise((resolve) => setTimeout(resolve, 1100));
  }
  return images;
}

async function remaining(build: string): Promise<string[]> {
  const result = await ec2.send(
    new DescribeImagesCommand({ Owners: ['self'], Filters: [{ Name: 'tag:vending:packer-build', Values: [build] }] }),
  );
  return (result.Images ?? []).map((image) => image.ImageId!).sort();
}

async function snapshotsOf(images: string[]): Promise<string[]> {
  const result = await ec2.send(new DescribeImagesCommand({ ImageIds: images }));
  return (result.Images ?? [])
    .flatMap((i) => (i.BlockDeviceMappings ?? []).map((m) => m.Ebs?.SnapshotId ?? ''))
    .filter(Boolean);
}

test('keeps the newest images and the one in use; deregisters the rest with their snapshots', async () => {
  const [oldest, inUse, older, newer, newest] = await bake(5, 'acme/staging');
  const other = await bake(1, 'globex/production');
  aws(['ssm', 'put-parameter', '--name', PARAMETER, '--type', 'String', '--value', inUse]);
  const doomedSnapshots = await snapshotsOf([oldest, older]);
  expect(doomedSnapshots).toHaveLength(2);

  const result = retain('2');

  expect(result.stderr).toContain(`deregistering ${oldest}`);
  expect(result.status).toBe(0);
  // bake.sh prints the new image id on stdout: retention must print nothing there.
  expect(result.stdout).toBe('');
  expect(await remaining('acme/staging')).toEqual([inUse, newer, newest].sort());
  expect(await remaining('globex/production')).toEqual(other);
  const left = await ec2.send(new DescribeSnapshotsCommand({ OwnerIds: ['self'] }));
  const leftIds = (left.Snapshots ?? []).map((s) => s.SnapshotId);
  for (const snapshot of doomedSnapshots) expect(leftIds).not.toContain(snapshot);
});

test('with no more images than it keeps, removes nothing', async () => {
  const images = await bake(2, 'acme/staging');
  aws(['ssm', 'put-parameter', '--name', PARAMETER, '--type', 'String', '--value', images[1]]);
  const result = retain('5');
  expect(result.status).toBe(0);
  expect(result.stderr).toContain('nothing to remove');
  expect(await remaining('acme/staging')).toEqual([...images].sort());
});

test('refuses a retention below 1', () => {
  const result = retain('0');
  expect(result.status).toBe(1);
  expect(result.stderr).toContain("KEEP must be a whole number of at least 1, got '0'");
});
