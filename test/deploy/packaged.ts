import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DIGEST_PATH, PACKAGE_DIR, sourceDigest } from '../../scripts/package-report.js';

export { bundleBytes, unzip, type ZipEntry, zipEntries } from '../../scripts/package-report.js';
/** Where `npm run package` leaves its output (repository root, whatever directory vitest runs from). */
export { PACKAGE_DIR };
export const TEMPLATE_PATH = join(PACKAGE_DIR, 'cloudformation-template-update-stack.json');

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export interface CfnResource {
  Type: string;
  Properties: Record<string, Json>;
  DependsOn?: string[];
  Condition?: string;
}
export interface CfnTemplate {
  Resources: Record<string, CfnResource>;
  Outputs?: Record<string, { Value: Json }>;
}

/** A package exists (a fresh clone has none: the template tests then skip). */
export const isPackaged = (): boolean => existsSync(TEMPLATE_PATH);

/**
 * Why the package in `.serverless/` does not match the sources, or undefined when it does: a package built
 * from other sources (or one that stopped half-way, before its digest was written) would test the past.
 */
export function stalePackageReason(): string | undefined {
  if (!existsSync(DIGEST_PATH)) return `${DIGEST_PATH} is missing: packaging did not finish`;
  if (readFileSync(DIGEST_PATH, 'utf8').trim() !== sourceDigest())
    return 'the sources changed since `npm run package` built .serverless/';
  return undefined;
}

/** The packaged template; refuses a stale package, so no test reads an old one. */
export function readPackagedTemplate(): CfnTemplate {
  const stale = stalePackageReason();
  if (stale) throw new Error(`stale package: ${stale}. Run \`npm run package\` first.`);
  return JSON.parse(readFileSync(TEMPLATE_PATH, 'utf8')) as CfnTemplate;
}

export function resourcesOfType(template: CfnTemplate, type: string): [string, CfnResource][] {
  return Object.entries(template.Resources).filter(([, resource]) => resource.Type === type);
}

/** `{ "Fn::GetAtt": [id, attr] }` or `{ "Ref": id }` → id; anything else → undefined. */
export function referencedId(value: Json | undefined): string | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const getAtt = value['Fn::GetAtt'];
  if (Array.isArray(getAtt) && typeof getAtt[0] === 'string') return getAtt[0];
  return typeof value.Ref === 'string' ? value.Ref : undefined;
}

export const asList = (value: Json | undefined): Json[] =>
  Array.isArray(value) ? value : value === undefined ? [] : [value];

export type Statement = { Effect: string; Action: Json; Resource: Json; Condition?: Json };

/** Ids of the customer-managed policies a role lists (a conditional one counts: it may be attached). */
export function rolePolicyIds(template: CfnTemplate, role: CfnResource): string[] {
  const ids: string[] = [];
  const visit = (value: Json | undefined): void => {
    const id = referencedId(value);
    if (id && template.Resources[id]?.Type === 'AWS::IAM::ManagedPolicy') ids.push(id);
    else if (Array.isArray(value)) value.forEach(visit);
    else if (value && typeof value === 'object') Object.values(value).forEach(visit);
  };
  visit(role.Properties.ManagedPolicyArns);
  return ids;
}

/** Every statement a role grants: its managed policies' and any inline ones. */
export function roleStatements(template: CfnTemplate, role: CfnResource): Statement[] {
  const inline = asList(role.Properties.Policies) as { PolicyDocument: { Statement: Json } }[];
  const managed = rolePolicyIds(template, role).map(
    (id) => template.Resources[id]?.Properties as { PolicyDocument: { Statement: Json } },
  );
  return [...inline, ...managed].flatMap((policy) => asList(policy.PolicyDocument.Statement) as Statement[]);
}

/** The role of a function's logical id. */
export function functionRole(template: CfnTemplate, functionId: string): CfnResource {
  const fn = template.Resources[functionId] as CfnResource;
  return template.Resources[referencedId(fn.Properties.Role) ?? ''] as CfnResource;
}
