/*
 * ConfigLoader, the public way to read and validate config files, and the names the constructs, the command and the
 * tests import from here: the full parse with positions is in parse.ts, the checks of a document in documents.ts,
 * the fleet directory in fleet.ts.
 */
import { publicCustomer, publicPlatform } from './defaults';
import { checkCustomer, checkPlatform, readCustomer, readPlatform } from './documents';
import { displayPath, readFile, readFleetDirectory, ResolvedFleet } from './fleet';
import { CustomerConfig, FleetConfig, PlatformConfig } from './types';

export { checkCustomer, checkPlatform, readCustomer, readPlatform } from './documents';
export type { PlatformEnvironments } from './documents';
export { CACHE_SWITCH } from './config-cache';
export { CONFIG_EXTENSIONS, displayPath, platformFilesIn, readFile } from './fleet';
export type { ResolvedFleet } from './fleet';
export { documentValue, parseYaml, positionOf } from './parse';

/**
 * Internal: a fleet directory with resolved configs; every problem of every file in one error. A function of this
 * module (not a re-export): the fleet benchmark times the command's calls to it here (scripts/bench-fleet-app.ts).
 */
export function readFleet(directory: string, env: NodeJS.ProcessEnv = process.env): ResolvedFleet {
  return readFleetDirectory(directory, env);
}

/** Options for reading or validating a customer environment. */
export interface CustomerLoadOptions {
  /**
   * The platform the customer runs on, to fill in the default host name.
   * @default - no default host name
   */
  readonly platform?: PlatformConfig;
}

/**
 * Reads and validates config files. Every method reports all the problems of its input at once,
 * each with the file, the field path, the value received and what was expected, and returns the
 * config with its defaults applied.
 *
 * @example
 * // From a fleet directory: platform.yaml and customers/*.yaml.
 * const fleet = ConfigLoader.loadFleet(fleetDirectory);
 * for (const customer of fleet.customers) {
 *   new CfnOutput(this, `${customer.customer}-${customer.environment}`, { value: customer.hostname! });
 * }
 *
 * // Or built in code, validated by the same rules.
 * const staging = ConfigLoader.validateCustomer({
 *   customer: 'acme',
 *   environment: 'staging',
 *   database: { engine: DatabaseEngine.POSTGRES, version: '16' },
 *   softwareDelivery: {
 *     repository: { codeCommitRepository: 'acme-website' },
 *     deploymentConfig: DeploymentStrategy.HALF_AT_A_TIME,
 *   },
 * }, { platform: platformConfig });
 */
export class ConfigLoader {
  /**
   * Reads a customer environment file (YAML or JSON) and applies defaults.
   * @param filePath path of the file
   * @param options the platform, for the default host name
   */
  public static loadCustomerFile(filePath: string, options: CustomerLoadOptions = {}): CustomerConfig {
    return publicCustomer(readCustomer(readFile(filePath), displayPath(filePath), options.platform));
  }

  /**
   * Parses a customer environment from YAML or JSON text and applies defaults.
   * @param text the file's content
   * @param source name used in error messages
   * @param options the platform, for the default host name
   */
  public static parseCustomer(text: string, source?: string, options: CustomerLoadOptions = {}): CustomerConfig {
    return publicCustomer(readCustomer(text, source ?? '<customer config>', options.platform));
  }

  /**
   * Validates a customer environment built in code and applies defaults.
   * @param config the customer environment
   * @param options the platform, for the default host name
   */
  public static validateCustomer(config: CustomerConfig, options: CustomerLoadOptions = {}): CustomerConfig {
    return publicCustomer(checkCustomer(config, options.platform));
  }

  /** Reads a platform file (YAML or JSON) and applies defaults. */
  public static loadPlatformFile(filePath: string): PlatformConfig {
    return publicPlatform(readPlatform(readFile(filePath), displayPath(filePath)));
  }

  /**
   * Parses a platform from YAML or JSON text and applies defaults.
   * @param text the file's content
   * @param source name used in error messages
   */
  public static parsePlatform(text: string, source?: string): PlatformConfig {
    return publicPlatform(readPlatform(text, source ?? '<platform config>'));
  }

  /**
   * Validates a platform built in code and applies defaults.
   * @param config the platform
   * @param source name used in error messages (it also keeps `config` a positional parameter in Python)
   */
  public static validatePlatform(config: PlatformConfig, source?: string): PlatformConfig {
    return publicPlatform(checkPlatform(config, source));
  }

  /**
   * Reads a fleet directory: `platform.yaml` and every file in `customers/`. Also checks what no
   * single file shows: duplicate environments and host names, custom domain certificates outside
   * the platform's region or account.
   */
  public static loadFleet(directory: string): FleetConfig {
    const fleet = readFleet(directory);
    return {
      directory: fleet.directory,
      platform: publicPlatform(fleet.platform),
      customers: fleet.customers.map(publicCustomer),
    };
  }

  private constructor() {}
}
