/**
 * The logic of `Custom::WebAmiParameter`, with its SSM client injected (the .lambda.ts wires the real one).
 *
 * - Create and Update put the parameter only when it does not exist (PutParameter without Overwrite): an existing
 *   parameter is adopted with its value, which is what keeps a baked image across an update or a migration. Neither
 *   ever writes the value of an existing parameter; only its tags are kept equal to the resource's.
 * - The resource marks the parameter as its own with the `vending:owner` tag (a hash of the stack id and the logical
 *   id). Delete removes the parameter only when that tag still names this resource: a resource that replaced it (a
 *   new logical id, a new stack adopting the same name) took the tag over, and the old resource's Delete, which
 *   CloudFormation sends after the new one's Create, leaves the parameter alone.
 */
import { createHash } from 'crypto';
import type {
  AddTagsToResourceCommandInput,
  DeleteParameterCommandInput,
  GetParameterCommandInput,
  ListTagsForResourceCommandInput,
  PutParameterCommandInput,
  RemoveTagsFromResourceCommandInput,
} from '@aws-sdk/client-ssm';
import { AmiParameterProperties, OWNER_TAG } from './environment-resource-types';

/** The SSM calls the handler makes, as the SDK client's methods (the .lambda.ts passes the client itself). */
export interface ParameterStore {
  getParameter(input: GetParameterCommandInput): Promise<unknown>;
  putParameter(input: PutParameterCommandInput): Promise<unknown>;
  deleteParameter(input: DeleteParameterCommandInput): Promise<unknown>;
  addTagsToResource(input: AddTagsToResourceCommandInput): Promise<unknown>;
  removeTagsFromResource(input: RemoveTagsFromResourceCommandInput): Promise<unknown>;
  listTagsForResource(
    input: ListTagsForResourceCommandInput,
  ): Promise<{ TagList?: { Key?: string; Value?: string }[] }>;
}

/** What CloudFormation sends, as far as this resource reads it. */
export interface AmiParameterRequest {
  readonly RequestType: 'Create' | 'Update' | 'Delete';
  readonly StackId: string;
  readonly LogicalResourceId: string;
  readonly PhysicalResourceId?: string;
  readonly ResourceProperties: AmiParameterProperties;
  readonly OldResourceProperties?: AmiParameterProperties;
}

/** The outcome: the physical id, and what was done (for the log and the response's Data). */
export interface AmiParameterResult {
  readonly physicalResourceId: string;
  readonly action: 'created' | 'adopted' | 'kept' | 'deleted' | 'left';
}

/** The owner tag's value of a custom resource: stable for its life, different for any other resource. */
export function ownerOf(stackId: string, logicalResourceId: string): string {
  return createHash('sha256').update(`${stackId}\n${logicalResourceId}`).digest('hex').slice(0, 40);
}

/** Serves one request. Errors are thrown with a message for CloudFormation. */
export async function handleAmiParameter(
  store: ParameterStore,
  request: AmiParameterRequest,
): Promise<AmiParameterResult> {
  const owner = ownerOf(request.StackId, request.LogicalResourceId);
  if (request.RequestType === 'Delete') return deleteIfOwned(store, request, owner);
  const props = checkedProperties(request.ResourceProperties);
  const name = props.ParameterName;
  const tags: Record<string, string> = { ...(props.Tags ?? {}), [OWNER_TAG]: owner };
  const exists = await parameterExists(store, name);
  let action: AmiParameterResult['action'];
  if (!exists) {
    const initial = { ...props, InitialValue: await resolvedInitialValue(store, props.InitialValue) };
    action = (await putIfAbsent(store, initial, tags)) ? 'created' : 'adopted';
  } else {
    action = request.RequestType === 'Create' ? 'adopted' : 'kept';
  }
  if (action !== 'created') await syncTags(store, name, tags, request.OldResourceProperties?.Tags);
  return { physicalResourceId: name, action };
}

function checkedProperties(props: AmiParameterProperties): AmiParameterProperties {
  const problems: string[] = [];
  if (typeof props?.ParameterName !== 'string' || !/^\/[A-Za-z0-9_.\-/]{1,1010}$/.test(props.ParameterName)) {
    problems.push(`ParameterName: received ${JSON.stringify(props?.ParameterName)}; expected an SSM parameter path`);
  }
  if (
    typeof props?.InitialValue !== 'string' ||
    !(/^ami-[0-9a-f]{8,17}$/.test(props.InitialValue) || STOCK_IMAGE_REFERENCE.test(props.InitialValue))
  ) {
    problems.push(`InitialValue: received ${JSON.stringify(props?.InitialValue)}; expected an image id ami-…`);
  }
  if (problems.length > 0) throw new Error(`Custom::WebAmiParameter: ${problems.join('; ')}`);
  return props;
}

/** A stock image's public parameter as a dynamic reference, should CloudFormation hand it over unresolved. */
const STOCK_IMAGE_REFERENCE = /^\{\{resolve:ssm:(\/aws\/service\/ami-amazon-linux-latest\/[\w.-]+)\}\}$/;

/** The initial image id: given, or read from the stock image's public parameter when the reference came unresolved. */
async function resolvedInitialValue(store: ParameterStore, value: string): Promise<string> {
  const match = STOCK_IMAGE_REFERENCE.exec(value);
  if (!match) return value;
  const read = (await store.getParameter({ Name: match[1] })) as { Parameter?: { Value?: string } };
  const image = read.Parameter?.Value;
  if (!image || !/^ami-[0-9a-f]{8,17}$/.test(image)) {
    throw new Error(
      `Custom::WebAmiParameter: InitialValue: ${match[1]} holds ${JSON.stringify(image)}; expected an image id ami-…`,
    );
  }
  return image;
}

async function parameterExists(store: ParameterStore, name: string): Promise<boolean> {
  try {
    await store.getParameter({ Name: name });
    return true;
  } catch (error) {
    if (errorName(error) === 'ParameterNotFound') return false;
    throw error;
  }
}

/** PutParameter without Overwrite; false when another writer created it first (then it is adopted). */
async function putIfAbsent(
  store: ParameterStore,
  props: AmiParameterProperties,
  tags: Record<string, string>,
): Promise<boolean> {
  try {
    await store.putParameter({
      Name: props.ParameterName,
      Value: props.InitialValue,
      Type: 'String',
      DataType: 'aws:ec2:image',
      Description: props.Description,
      Overwrite: false,
      Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })),
    });
    return true;
  } catch (error) {
    if (errorName(error) === 'ParameterAlreadyExists') return false;
    throw error;
  }
}

/** The parameter's tags made equal to `tags`: those the old properties held and the new ones do not are removed. */
async function syncTags(
  store: ParameterStore,
  name: string,
  tags: Record<string, string>,
  oldTags: Record<string, string> | undefined,
): Promise<void> {
  await store.addTagsToResource({
    ResourceType: 'Parameter',
    ResourceId: name,
    Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })),
  });
  const gone = Object.keys(oldTags ?? {}).filter((key) => !(key in tags));
  if (gone.length > 0) {
    await store.removeTagsFromResource({ ResourceType: 'Parameter', ResourceId: name, TagKeys: gone });
  }
}

async function deleteIfOwned(
  store: ParameterStore,
  request: AmiParameterRequest,
  owner: string,
): Promise<AmiParameterResult> {
  const name = request.PhysicalResourceId ?? '';
  // A Create that failed answered with a placeholder: nothing of it exists.
  if (!name.startsWith('/')) return { physicalResourceId: name, action: 'left' };
  let current: string | undefined;
  try {
    const listed = await store.listTagsForResource({ ResourceType: 'Parameter', ResourceId: name });
    current = listed.TagList?.find((tag) => tag.Key === OWNER_TAG)?.Value;
  } catch (error) {
    if (errorName(error) === 'InvalidResourceId' || errorName(error) === 'ParameterNotFound') {
      return { physicalResourceId: name, action: 'left' };
    }
    throw error;
  }
  if (current !== owner) return { physicalResourceId: name, action: 'left' };
  try {
    await store.deleteParameter({ Name: name });
  } catch (error) {
    if (errorName(error) !== 'ParameterNotFound') throw error;
  }
  return { physicalResourceId: name, action: 'deleted' };
}

function errorName(error: unknown): string | undefined {
  return (error as { name?: string } | undefined)?.name;
}
