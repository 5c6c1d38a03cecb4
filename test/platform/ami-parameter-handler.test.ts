/**
 * The branches of Custom::WebAmiParameter that moto cannot produce: AWS errors other than the expected ones reach
 * CloudFormation as the failure (never a silent success), and a lost race on PutParameter adopts the winner's value.
 */
import { AmiParameterRequest, handleAmiParameter, ParameterStore } from '../../src/platform/ami-parameter-handler';

const NAME = '/vending/acme/staging/ami-id';

function awsError(name: string): Error {
  const error = new Error(`${name} from SSM`);
  error.name = name;
  return error;
}

/** A store whose every call fails unless the test says otherwise, recording the calls made. */
function store(overrides: Partial<ParameterStore>): { store: ParameterStore; calls: string[] } {
  const calls: string[] = [];
  const fail = (name: string) => async () => {
    calls.push(name);
    throw new Error(`unexpected call ${name}`);
  };
  const wrap = (name: keyof ParameterStore) => {
    const given = overrides[name] as ((input: any) => Promise<any>) | undefined;
    return given
      ? async (input: any) => {
          calls.push(name);
          return given(input);
        }
      : fail(name);
  };
  return {
    calls,
    store: {
      getParameter: wrap('getParameter'),
      putParameter: wrap('putParameter'),
      deleteParameter: wrap('deleteParameter'),
      addTagsToResource: wrap('addTagsToResource'),
      removeTagsFromResource: wrap('removeTagsFromResource'),
      listTagsForResource: wrap('listTagsForResource'),
    } as ParameterStore,
  };
}

function request(type: 'Create' | 'Update' | 'Delete'): AmiParameterRequest {
  return {
    RequestType: type,
    StackId: 'arn:aws:cloudformation:eu-west-1:123456789012:stack/acme-staging/1',
    LogicalResourceId: 'WebImageParameter1566FBE4',
    PhysicalResourceId: type === 'Create' ? undefined : NAME,
    ResourceProperties: { ParameterName: NAME, InitialValue: 'ami-0123456789abcdef0' },
  };
}

test('an access error on GetParameter fails the request and writes nothing', async () => {
  const { store: s, calls } = store({ getParameter: async () => Promise.reject(awsError('AccessDeniedException')) });
  await expect(handleAmiParameter(s, request('Update'))).rejects.toThrow('AccessDeniedException from SSM');
  expect(calls).toEqual(['getParameter']);
});

test('a parameter created by another writer between GetParameter and PutParameter is adopted, not overwritten', async () => {
  const { store: s, calls } = store({
    getParameter: async () => Promise.reject(awsError('ParameterNotFound')),
    putParameter: async (input) => {
      expect(input.Overwrite).toBe(false);
      throw awsError('ParameterAlreadyExists');
    },
    addTagsToResource: async () => ({}),
  });
  expect(await handleAmiParameter(s, request('Create'))).toEqual({ physicalResourceId: NAME, action: 'adopted' });
  expect(calls).toEqual(['getParameter', 'putParameter', 'addTagsToResource']);
});

test('a Delete that cannot read the owner tag fails instead of guessing', async () => {
  const { store: s, calls } = store({
    listTagsForResource: async () => Promise.reject(awsError('ThrottlingException')),
  });
  await expect(handleAmiParameter(s, request('Delete'))).rejects.toThrow('ThrottlingException from SSM');
  expect(calls).toEqual(['listTagsForResource']);
});

test('an initial image handed over as an unresolved stock reference is read from its public parameter', async () => {
  const stock = '/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64';
  const put: any[] = [];
  const { store: s } = store({
    getParameter: async (input) => {
      if (input.Name === stock) return { Parameter: { Value: 'ami-0aaaaaaaaaaaaaaaa' } };
      throw awsError('ParameterNotFound');
    },
    putParameter: async (input) => put.push(input),
  });
  const given = request('Create');
  const result = await handleAmiParameter(s, {
    ...given,
    ResourceProperties: { ...given.ResourceProperties, InitialValue: `{{resolve:ssm:${stock}}}` },
  });
  expect(result.action).toBe('created');
  expect(put.map((p) => p.Value)).toEqual(['ami-0aaaaaaaaaaaaaaaa']);
});
