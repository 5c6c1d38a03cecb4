/*
 * Struct properties whose config-file key differs. Java's jsii runtime lives in the package
 * `software.amazon.jsii`, and the Java code jsii generates for a struct with a property named
 * `software` does not compile (the field shadows the package). So the struct says
 * `softwareDelivery` while the file keeps the contract's `software`. Only top-level keys of a
 * customer config are renamed.
 */
export const STRUCT_TO_FILE_KEYS: Readonly<Record<string, string>> = { softwareDelivery: 'software' };

const FILE_TO_STRUCT_KEYS: Readonly<Record<string, string>> = Object.fromEntries(
  Object.entries(STRUCT_TO_FILE_KEYS).map(([struct, file]) => [file, struct]),
);

function renameKeys(doc: unknown, names: Readonly<Record<string, string>>): unknown {
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) return doc;
  return Object.fromEntries(Object.entries(doc).map(([k, v]) => [Object.hasOwn(names, k) ? names[k] : k, v]));
}

/** A customer document with file keys, from a struct. */
export const toFileKeys = (doc: unknown): unknown => renameKeys(doc, STRUCT_TO_FILE_KEYS);

/** A customer struct, from a document with file keys. */
export const toStructKeys = (doc: unknown): unknown => renameKeys(doc, FILE_TO_STRUCT_KEYS);

/** The name of the first segment of a field path as a struct user knows it. */
export const structKey = (key: string | number): string | number =>
  typeof key === 'string' && Object.hasOwn(FILE_TO_STRUCT_KEYS, key) ? FILE_TO_STRUCT_KEYS[key] : key;

/** File keys that a struct built in code must not use (it has its own name for them). */
export const FILE_ONLY_KEYS: readonly string[] = Object.values(STRUCT_TO_FILE_KEYS);
