import { existsSync, mkdirSync, statSync } from 'fs';
import { dirname, join, relative, resolve } from 'path';
import { args } from './args';
import { help } from './help';
import { EXIT_INVALID, EXIT_OK, Io, UsageError } from './io';
import { starterCustomerFile } from './starter';
import { writeFileAtomically, writeRefusal } from '../config/atomic-write';
import { ResolvedPlatformConfig } from '../config/defaults';
import { ConfigError } from '../config/errors';
import { displayPath, platformFilesIn, readCustomer, readFile, readPlatform } from '../config/loader';
import { PLACEHOLDER_MESSAGE } from '../config/placeholders';
import { schemaProblems, SCHEMA_DIR } from '../config/schema';

/** `paas-vending init`: a commented starter file for a new customer environment. */
export function init(argv: string[], io: Io): number {
  const { flags, positionals } = args(argv, ['force'], 3, 'init');
  if (flags.help) return help('init', io);
  const [customer, environment, dir] = positionals;
  if (customer === undefined || environment === undefined) {
    throw new UsageError('init: expected CUSTOMER and ENVIRONMENT, such as: paas-vending init acme staging');
  }
  // The names become a file name: check them before anything is written or read.
  const nameProblems = schemaProblems('customer', { customer, environment }).filter((p) =>
    ['customer', 'environment'].includes(String(p.path[0])),
  );
  if (nameProblems.length > 0) {
    throw new ConfigError(
      nameProblems.map((p) => ({ file: 'paas-vending init', path: String(p.path[0]), message: p.message })),
    );
  }
  const directory = resolve(io.cwd, dir ?? '.');
  const [platformFile] = platformFilesIn(directory);
  let platform: ResolvedPlatformConfig | undefined;
  if (platformFile) platform = readPlatform(readFile(platformFile), displayPath(platformFile));
  const target = join(directory, 'customers', `${customer}-${environment}.yaml`);
  const schemaPath = relative(dirname(target), join(SCHEMA_DIR, 'customer-config.schema.json'));
  const text = starterCustomerFile(customer, environment, schemaPath, platform);
  // The starter has no problem but its placeholders: checking it also reports a bad customer or environment name.
  const placeholders = starterPlaceholders(text, displayPath(target), platform);
  if (existsSync(target) && statSync(target).isDirectory()) {
    io.err(
      `${displayPath(target)}: is a folder; expected a file to write the starter to: move the folder away, ` +
        'or choose another CUSTOMER or ENVIRONMENT',
    );
    return EXIT_INVALID;
  }
  if (existsSync(target) && !flags.force) {
    io.err(`${displayPath(target)} already exists; use --force to overwrite it.`);
    return EXIT_INVALID;
  }
  try {
    mkdirSync(join(directory, 'customers'), { recursive: true });
  } catch (e) {
    const folder = join(directory, 'customers');
    io.err(
      `${displayPath(folder)}: cannot be created (${writeRefusal(e, folder, displayPath)}); expected a folder for customer files`,
    );
    return EXIT_INVALID;
  }
  writeFileAtomically(target, text, displayPath(target));
  io.out(
    `Wrote ${displayPath(target)}. Edit it: replace each <REPLACE: …> placeholder (${placeholders}), then run: ` +
      `paas-vending validate${dir ? ` ${dir}` : ''}`,
  );
  return EXIT_OK;
}

/** The fields of a starter that hold placeholders; any other problem of the starter is thrown. */
function starterPlaceholders(text: string, file: string, platform?: ResolvedPlatformConfig): string {
  try {
    readCustomer(text, file, platform);
    return 'none';
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    const others = e.problems.filter((p) => !p.message.startsWith(PLACEHOLDER_MESSAGE));
    if (others.length > 0) throw new ConfigError(others);
    return e.problems.map((p) => p.path).join(', ');
  }
}
