/**
 * Offline check of a packaged CloudFormation template against the AWS resource specification
 * (@aws-cdk/aws-service-spec): every resource type exists, every property name exists (nested ones too),
 * required properties are present, values have the right shape, and every Ref, Fn::GetAtt, Fn::Sub
 * reference, DependsOn and Condition points at something that exists.
 *
 * Usage: tsx scripts/check-template.ts [template.json]   (exit 1 and a list of problems on any finding)
 */
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { loadAwsServiceSpec } from '@aws-cdk/aws-service-spec';
import type { PropertyType, Resource, ResourceProperties, SpecDatabase } from '@aws-cdk/service-spec-types';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

export interface TemplateResource {
  Type?: string;
  Properties?: JsonObject;
  [key: string]: Json | undefined;
}

export interface Template {
  Resources?: Record<string, TemplateResource>;
  Conditions?: JsonObject;
  Parameters?: JsonObject;
  Outputs?: JsonObject;
}

const RESOURCE_KEYS = new Set([
  'Type',
  'Properties',
  'DependsOn',
  'Condition',
  'DeletionPolicy',
  'UpdateReplacePolicy',
  'Metadata',
  'CreationPolicy',
  'UpdatePolicy',
]);
const PSEUDO_PARAMETERS = new Set([
  'AWS::AccountId',
  'AWS::NotificationARNs',
  'AWS::NoValue',
  'AWS::Partition',
  'AWS::Region',
  'AWS::StackId',
  'AWS::StackName',
  'AWS::URLSuffix',
]);

const isObject = (value: Json | undefined): value is JsonObject =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** `{ "Ref": ... }`, `{ "Fn::X": ... }` or `{ "Condition": ... }`: its value is only known at deploy time. */
function intrinsicName(value: Json | undefined): string | undefined {
  if (!isObject(value)) return undefined;
  const keys = Object.keys(value);
  if (keys.length !== 1) return undefined;
  const [key] = keys as [string];
  return key === 'Ref' || key === 'Condition' || key.startsWith('Fn::') ? key : undefined;
}

export class TemplateChecker {
  readonly problems: string[] = [];
  private template: Template = {};

  constructor(private readonly db: SpecDatabase) {}

  check(template: Template): string[] {
    this.template = template;
    const resources = template.Resources ?? {};
    if (Object.keys(resources).length === 0) this.problems.push('template has no Resources');
    for (const [id, resource] of Object.entries(resources)) this.checkResource(id, resource);
    this.checkReferences(template.Outputs ?? {}, 'Outputs');
    this.checkReferences(template.Conditions ?? {}, 'Conditions');
    return this.problems;
  }

  private checkResource(id: string, resource: TemplateResource): void {
    const at = `${id}`;
    for (const key of Object.keys(resource)) {
      if (!RESOURCE_KEYS.has(key)) this.problems.push(`${at}: unknown resource attribute "${key}"`);
    }
    const dependsOn = resource.DependsOn;
    for (const target of Array.isArray(dependsOn) ? dependsOn : dependsOn ? [dependsOn] : []) {
      if (typeof target !== 'string' || !this.template.Resources?.[target]) {
        this.problems.push(`${at}: DependsOn "${String(target)}" is not a resource of the template`);
      }
    }
    if (typeof resource.Condition === 'string' && !this.template.Conditions?.[resource.Condition]) {
      this.problems.push(`${at}: Condition "${resource.Condition}" is not defined`);
    }
    this.checkReferences(resource.Properties ?? {}, `${at}.Properties`);

    const type = resource.Type;
    if (typeof type !== 'string') {
      this.problems.push(`${at}: missing Type`);
      return;
    }
    if (type.startsWith('Custom::') || type === 'AWS::CloudFormation::CustomResource') return;
    const spec = this.resourceSpec(type);
    if (!spec) {
      this.problems.push(`${at}: unknown resource type ${type}`);
      return;
    }
    const properties = resource.Properties;
    if (properties !== undefined && !isObject(properties)) {
      this.problems.push(`${at}: Properties must be an object`);
      return;
    }
    this.checkProperties(properties ?? {}, spec.properties, `${at} (${type})`);
  }

  private resourceSpec(type: string): Resource | undefined {
    const found = this.db.lookup('resource', 'cloudFormationType', 'equals', type);
    return found.length > 0 ? found[0] : undefined;
  }

  private checkProperties(value: JsonObject, spec: ResourceProperties, at: string): void {
    for (const [name, property] of Object.entries(spec)) {
      if (property.required && !(name in value))
        this.problems.push(`${at}: required property ${name} is missing`);
    }
    for (const [name, child] of Object.entries(value)) {
      const property = spec[name];
      if (!property) {
        this.problems.push(`${at}: unknown property ${name}`);
        continue;
      }
      const types = [property.type, ...(property.previousTypes ?? [])];
      this.checkValue(child, types, `${at}.${name}`);
    }
  }

  /** Accepts the value when it fits any of the candidate types; otherwise reports the closest mismatch. */
  private checkValue(value: Json, types: PropertyType[], at: string): void {
    const intrinsic = intrinsicName(value);
    if (intrinsic === 'Fn::If' && isObject(value) && Array.isArray(value['Fn::If'])) {
      // Both branches must fit the property (AWS::NoValue removes it).
      for (const branch of value['Fn::If'].slice(1)) {
        if (isObject(branch) && branch.Ref === 'AWS::NoValue') continue;
        this.checkValue(branch, types, at);
      }
      return;
    }
    if (intrinsic) return;
    let best: string[] | undefined;
    for (const type of types) {
      const found = this.valueProblems(value, type, at);
      if (found.length === 0) return;
      if (!best || found.length < best.length) best = found;
    }
    this.problems.push(...(best ?? []));
  }

  private valueProblems(value: Json, type: PropertyType, at: string): string[] {
    const saved = this.problems.length;
    const local: string[] = [];
    switch (type.type) {
      case 'json':
        return [];
      case 'string':
        if (typeof value === 'object' && value !== null) local.push(`${at}: expected a string`);
        break;
      case 'date-time':
        if (typeof value !== 'string') local.push(`${at}: expected a date-time string`);
        break;
      case 'number':
      case 'integer':
        if (
          !(
            typeof value === 'number' ||
            (typeof value === 'string' && value.trim() !== '' && !Number.isNaN(Number(value)))
          )
        ) {
          local.push(`${at}: expected a number, got ${JSON.stringify(value)}`);
        }
        break;
      case 'boolean':
        if (!(typeof value === 'boolean' || value === 'true' || value === 'false')) {
          local.push(`${at}: expected a boolean, got ${JSON.stringify(value)}`);
        }
        break;
      case 'null':
        if (value !== null) local.push(`${at}: expected null`);
        break;
      case 'tag':
        if (!isObject(value) || !('Key' in value) || !('Value' in value))
          local.push(`${at}: expected a {Key, Value} tag`);
        break;
      case 'array':
        if (!Array.isArray(value)) local.push(`${at}: expected a list`);
        else for (const [i, item] of value.entries()) this.checkValue(item, [type.element], `${at}[${i}]`);
        break;
      case 'map':
        if (!isObject(value)) local.push(`${at}: expected an object`);
        else
          for (const [key, item] of Object.entries(value))
            this.checkValue(item, [type.element], `${at}.${key}`);
        break;
      case 'union':
        this.checkValue(value, type.types, at);
        break;
      case 'ref': {
        const definition = this.db.get('typeDefinition', type.reference);
        if (!isObject(value)) local.push(`${at}: expected an object (${definition.name})`);
        else this.checkProperties(value, definition.properties, at);
        break;
      }
    }
    // Problems found deeper down were pushed straight onto this.problems: take them back for comparison.
    return [...local, ...this.problems.splice(saved)];
  }

  /** Ref, Fn::GetAtt and Fn::Sub targets must exist: a typo otherwise surfaces only at deploy time. */
  private checkReferences(node: Json, at: string): void {
    if (Array.isArray(node)) {
      for (const [i, item] of node.entries()) this.checkReferences(item, `${at}[${i}]`);
      return;
    }
    if (!isObject(node)) return;
    for (const [key, value] of Object.entries(node)) {
      if (key === 'Ref' && typeof value === 'string') this.checkTarget(value, undefined, at);
      else if (key === 'Fn::GetAtt') {
        const [target, attribute] = Array.isArray(value)
          ? (value as string[])
          : typeof value === 'string'
            ? (value.split(/\.(.*)/) as [string, string])
            : [];
        if (typeof target === 'string') this.checkTarget(target, attribute ?? '', at);
      } else if (key === 'Fn::Sub') {
        const [text, variables] = Array.isArray(value) ? value : [value, {}];
        if (typeof text === 'string') {
          for (const match of text.matchAll(/\$\{([^!}][^}]*)\}/g)) {
            const name = match[1] as string;
            if (isObject(variables) && name in variables) continue;
            const [target, attribute] = name.includes('::')
              ? [name]
              : (name.split(/\.(.*)/) as [string, string?]);
            this.checkTarget(target as string, attribute, at);
          }
        }
      } else if (key === 'Fn::If' && Array.isArray(value) && typeof value[0] === 'string') {
        if (!this.template.Conditions?.[value[0]])
          this.problems.push(`${at}: condition "${value[0]}" is not defined`);
      } else if (key === 'Condition' && typeof value === 'string' && at.startsWith('Conditions')) {
        if (!this.template.Conditions?.[value])
          this.problems.push(`${at}: condition "${value}" is not defined`);
      }
      this.checkReferences(value, `${at}.${key}`);
    }
  }

  private checkTarget(target: string, attribute: string | undefined, at: string): void {
    if (PSEUDO_PARAMETERS.has(target) || this.template.Parameters?.[target]) return;
    const resource = this.template.Resources?.[target];
    if (!resource) {
      this.problems.push(`${at}: reference to "${target}", which is not a resource or parameter`);
      return;
    }
    if (attribute === undefined || typeof resource.Type !== 'string' || resource.Type.startsWith('Custom::'))
      return;
    const spec = this.resourceSpec(resource.Type);
    if (spec && !(attribute in spec.attributes)) {
      this.problems.push(`${at}: ${resource.Type} "${target}" has no attribute ${attribute}`);
    }
  }
}

export async function checkTemplate(template: Template): Promise<string[]> {
  return new TemplateChecker(await loadAwsServiceSpec()).check(template);
}

async function main(): Promise<void> {
  const path = process.argv[2] ?? '.serverless/cloudformation-template-update-stack.json';
  let template: Template;
  try {
    template = JSON.parse(readFileSync(path, 'utf8')) as Template;
  } catch (error) {
    console.error(`check-template: cannot read ${path}: ${(error as Error).message}`);
    process.exit(2);
  }
  const problems = await checkTemplate(template);
  const resources = Object.values(template.Resources ?? {});
  const types = new Set(resources.map((r) => r.Type));
  if (problems.length > 0) {
    console.error(`check-template: ${problems.length} problem(s) in ${path}:`);
    for (const problem of problems) console.error(`  - ${problem}`);
    process.exit(1);
  }
  console.log(
    `check-template: ${resources.length} resources of ${types.size} types match the AWS specification`,
  );
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
