/*
 * Builders and template readers shared by the CustomerWebTier tests (plain Apps, no compliance plugins).
 */
import { join } from 'path';
import { App, CfnElement, Stack, StackProps } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import { IConstruct } from 'constructs';
import {
  CustomerWebTier,
  CustomerWebTierProps,
  DedicatedIngressOptions,
  SharedIngressOptions,
  SharedPlatform,
  SharedPlatformProps,
  WebTierIngress,
} from '../../src';
import { ENV, PLATFORM_CERTIFICATE_ARN } from '../support/platform-fixture';

export const FLEET = join(__dirname, '..', '..', 'examples', 'fleet');
export const CUSTOMER_CERTIFICATE_ARN =
  'arn:aws:acm:eu-west-1:123456789012:certificate/21111111-2222-3333-4444-555555555555';
export const STAGING_HOST = 'acme-staging.apps.example.com';

export interface Fixture {
  readonly app: App;
  readonly platformStack: Stack;
  readonly platform: SharedPlatform;
}

export interface Synth extends Fixture {
  readonly stack: Stack;
  readonly web: CustomerWebTier;
  readonly template: Template;
}

export type Props = Partial<CustomerWebTierProps>;
export type PropsOf = Props | ((context: { platform: SharedPlatform; stack: Stack }) => Props);

export interface SynthOptions {
  /** Props of the customer stack (besides env). */
  readonly stackProps?: StackProps;
  /** Runs before synthesis, e.g. to tag the app. */
  readonly configure?: (app: App, stack: Stack) => void;
}

/** A SharedPlatform `acme` in its own stack of a new plain App. */
export function newPlatform(props: Partial<SharedPlatformProps> = {}): Fixture {
  const app = new App();
  const platformStack = new Stack(app, 'Platform', { env: ENV });
  const platform = new SharedPlatform(platformStack, 'Platform', {
    platformName: 'acme',
    certificate: acm.Certificate.fromCertificateArn(platformStack, 'Wildcard', PLATFORM_CERTIFICATE_ARN),
    ...props,
  });
  return { app, platformStack, platform };
}

export function sharedIngress(platform: SharedPlatform, options: Partial<SharedIngressOptions> = {}): WebTierIngress {
  return WebTierIngress.sharedRule({
    listener: platform.httpsListener,
    allocator: platform.allocator,
    hostnames: [STAGING_HOST],
    ...options,
  });
}

export function dedicatedIngress(stack: Stack, options: Partial<DedicatedIngressOptions> = {}): WebTierIngress {
  return WebTierIngress.dedicatedLoadBalancer({
    domainName: 'www.acme.com',
    certificate: acm.Certificate.fromCertificateArn(stack, 'Certificate', CUSTOMER_CERTIFICATE_ARN),
    ...options,
  });
}

/** A CustomerWebTier `Web` in stack `stackId` beside the platform: acme staging on the shared load balancer. */
export function addWebTier(fixture: Fixture, stackId: string, props: PropsOf = {}, stackProps: StackProps = {}) {
  const stack = new Stack(fixture.app, stackId, { env: ENV, ...stackProps });
  const given = typeof props === 'function' ? props({ platform: fixture.platform, stack }) : props;
  const web = new CustomerWebTier(stack, 'Web', {
    customer: 'acme',
    environment: 'staging',
    vpc: fixture.platform.vpc,
    encryptionKey: fixture.platform.key,
    logsBucket: fixture.platform.logsBucket,
    ingress: sharedIngress(fixture.platform),
    ...given,
  });
  return { stack, web };
}

/** Staging on the shared load balancer unless the props say otherwise, in a new App. */
export function synth(props: PropsOf = {}, options: SynthOptions = {}): Synth {
  const fixture = newPlatform();
  const { stack, web } = addWebTier(fixture, 'Customer', props, options.stackProps);
  options.configure?.(fixture.app, stack);
  return { ...fixture, stack, web, template: Template.fromStack(stack) };
}

/** Production on a load balancer of its own for www.acme.com, in a new App. */
export function synthProduction(props: PropsOf = {}, dedicated: Partial<DedicatedIngressOptions> = {}): Synth {
  return synth((context) => ({
    environment: 'production',
    ingress: dedicatedIngress(context.stack, dedicated),
    ...(typeof props === 'function' ? props(context) : props),
  }));
}

export function logicalId(construct: IConstruct): string {
  const element = (construct.node.defaultChild ?? construct) as CfnElement;
  return Stack.of(element).resolve(element.logicalId);
}

/**
 * The name of the platform stack's export of a construct's Ref (or of one of its attributes): what a customer
 * stack's Fn::ImportValue names.
 */
export function exportOf(construct: IConstruct, attribute?: string): RegExp {
  const id = logicalId(construct);
  return new RegExp(`^Platform:ExportsOutput${attribute ? `FnGetAtt${id}${attribute}` : `Ref${id}`}[0-9A-F]{8}$`);
}

export function importOf(construct: IConstruct, attribute?: string) {
  return { 'Fn::ImportValue': expect.stringMatching(exportOf(construct, attribute)) };
}

export function resourcesOf(template: Template, type: string): [string, any][] {
  return Object.entries(template.findResources(type));
}

export function only(template: Template, type: string): [string, any] {
  const found = resourcesOf(template, type);
  expect(found).toHaveLength(1);
  return found[0];
}

export function propertiesOf(template: Template, construct: IConstruct): any {
  return template.toJSON().Resources[logicalId(construct)].Properties;
}

export function tagsOf(tags: { Key: string; Value: string }[] | undefined): Record<string, string> {
  return Object.fromEntries((tags ?? []).map((t) => [t.Key, t.Value]));
}

export function attributesOf(resource: any, key = 'LoadBalancerAttributes'): Record<string, string> {
  return Object.fromEntries(
    (resource.Properties[key] as { Key: string; Value: string }[]).map((a) => [a.Key, a.Value]),
  );
}

/** Every ingress rule of a security group: inline ones and AWS::EC2::SecurityGroupIngress resources. */
export function ingressRulesOf(template: Template, groupLogicalId: string): any[] {
  const inline = template.toJSON().Resources[groupLogicalId].Properties.SecurityGroupIngress ?? [];
  const separate = resourcesOf(template, 'AWS::EC2::SecurityGroupIngress')
    .map(([, r]) => r.Properties)
    .filter((p) => JSON.stringify(p.GroupId) === JSON.stringify({ 'Fn::GetAtt': [groupLogicalId, 'GroupId'] }));
  return [...inline, ...separate];
}

/** Every ingress rule in a template. */
export function allIngressRules(template: Template): any[] {
  return [
    ...resourcesOf(template, 'AWS::EC2::SecurityGroup').flatMap(([, g]) => g.Properties.SecurityGroupIngress ?? []),
    ...resourcesOf(template, 'AWS::EC2::SecurityGroupIngress').map(([, r]) => r.Properties),
  ];
}

/** The export names a template imports. */
export function importsOf(template: Template): string[] {
  const names: string[] = [];
  const visit = (value: unknown): void => {
    if (Array.isArray(value)) {
      value.forEach(visit);
    } else if (value && typeof value === 'object') {
      for (const [key, inner] of Object.entries(value)) {
        if (key === 'Fn::ImportValue' && typeof inner === 'string') names.push(inner);
        else visit(inner);
      }
    }
  };
  visit(template.toJSON());
  return names;
}

export function policyStatementsOfRole(template: Template, roleLogicalId: string): any[] {
  const inline = (template.toJSON().Resources[roleLogicalId].Properties.Policies ?? []).flatMap(
    (p: any) => p.PolicyDocument.Statement,
  );
  const attached = resourcesOf(template, 'AWS::IAM::Policy')
    .filter(([, p]) => JSON.stringify(p.Properties.Roles).includes(`"${roleLogicalId}"`))
    .flatMap(([, p]) => p.Properties.PolicyDocument.Statement);
  return [...inline, ...attached];
}

export const asList = <T>(value: T | T[]): T[] => (Array.isArray(value) ? value : [value]);
