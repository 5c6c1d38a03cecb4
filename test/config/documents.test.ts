import { asStruct, stagingCustomer } from './fixtures';
import { checkCustomer, contentKey, VALIDATED_KEPT } from '../../src/config/documents';
import { ConfigError } from '../../src/config/errors';
import * as rules from '../../src/config/rules';

describe('contentKey', () => {
  test('differs whenever plain data differs, by type too', () => {
    const keys = [1, '1', NaN, null, 0, -0, Infinity, true, false, undefined, [], {}, [1], { a: 1 }, { a: '1' }, [[]]];
    expect(new Set(keys.map((v) => contentKey(v))).size).toBe(keys.length);
    expect(contentKey({ a: [1, { b: 'x' }] })).toBe(contentKey({ a: [1, { b: 'x' }] }));
    expect(contentKey(Object.assign(Object.create(null), { a: 1 }))).toBe(contentKey({ a: 1 }));
    // A hole is undefined, not left out.
    expect(contentKey([1, , 2])).toBe(contentKey([1, undefined, 2])); // eslint-disable-line no-sparse-arrays
    expect(contentKey([1, , 2])).not.toBe(contentKey([1, 2])); // eslint-disable-line no-sparse-arrays
  });

  test('is undefined for what is not plain data, and for values too deep (a value inside itself)', () => {
    const cyclic: any = { a: 1 };
    cyclic.self = cyclic;
    for (const value of [() => 1, Symbol('s'), 1n, new Map(), new Date(0), { a: [new Set()] }, cyclic]) {
      expect(contentKey(value)).toBeUndefined();
    }
  });
});

describe('checkCustomer: the same content against the same platform is checked once', () => {
  afterEach(() => jest.restoreAllMocks());

  test('a second check of equal content is a lookup; other content, environments or platform names are checked', () => {
    const spy = jest.spyOn(rules, 'customerRules');
    const config = { ...asStruct(stagingCustomer()), customer: 'memo-a' };
    const first = checkCustomer(config, undefined, 'first');
    expect(spy).toHaveBeenCalledTimes(1);
    const second = checkCustomer(JSON.parse(JSON.stringify(config)), undefined, 'second');
    expect(spy).toHaveBeenCalledTimes(1);
    // Each call resolves its own object.
    expect(second).toEqual(first);
    expect(second).not.toBe(first);
    checkCustomer({ ...config, customer: 'memo-b' }, undefined, 'other content');
    expect(spy).toHaveBeenCalledTimes(2);
    checkCustomer(config, undefined, 'other platform name', { platformName: 'elsewhere' });
    expect(spy).toHaveBeenCalledTimes(3);
    checkCustomer(config, undefined, 'other environments', {
      environments: [{ name: 'staging', production: false }],
    });
    expect(spy).toHaveBeenCalledTimes(4);
  });

  test('a failure is never kept, and is said with the name of each call', () => {
    const config = { ...asStruct(stagingCustomer()), customer: 'A' };
    expect(() => checkCustomer(config, undefined, 'one')).toThrow(/ one: customer: /);
    expect(() => checkCustomer(config, undefined, 'two')).toThrow(ConfigError);
    expect(() => checkCustomer(config, undefined, 'two')).toThrow(/ two: customer: /);
  });

  test('content that has no key is checked each time', () => {
    const spy = jest.spyOn(rules, 'customerRules');
    const config: any = { ...asStruct(stagingCustomer()), customer: 'memo-c' };
    const of = { environments: [{ name: 'staging', production: false, since: new Date(0) } as any] };
    checkCustomer(config, undefined, 'first', of);
    checkCustomer(config, undefined, 'second', of);
    expect(spy).toHaveBeenCalledTimes(2);
  });

  test(`keeps the last ${VALIDATED_KEPT} passed checks, not more`, () => {
    const spy = jest.spyOn(rules, 'customerRules');
    const config = (i: number) => ({ ...asStruct(stagingCustomer()), customer: `kept-${i}` });
    for (let i = 0; i <= VALIDATED_KEPT; i++) checkCustomer(config(i));
    expect(spy).toHaveBeenCalledTimes(VALIDATED_KEPT + 1);
    checkCustomer(config(VALIDATED_KEPT)); // the newest: kept
    expect(spy).toHaveBeenCalledTimes(VALIDATED_KEPT + 1);
    checkCustomer(config(0)); // the oldest: let go
    expect(spy).toHaveBeenCalledTimes(VALIDATED_KEPT + 2);
  });
});
