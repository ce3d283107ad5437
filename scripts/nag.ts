/**
 * Runs cdk-nag's HIPAA Security and AWS Solutions rule packs over the packaged CloudFormation template
 * (imported whole with `cloudformation-include`), and fails on any error that nag-acknowledgements.yml does not
 * acknowledge. An acknowledgement names one rule id (a finding of a multi-finding rule is written
 * `Rule[Finding]`), the logical ids it covers and the reason; one that matches nothing is an error too, so the
 * file cannot grow stale.
 *
 * Usage: tsx scripts/nag.ts [template.json] [acknowledgements.yml]   (exit 1 on any unacknowledged error)
 * Build tool only: aws-cdk-lib and cdk-nag are devDependencies and never reach a Lambda bundle.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { App, Stack } from 'aws-cdk-lib';
import { CfnInclude } from 'aws-cdk-lib/cloudformation-include';
import { AwsSolutionsChecks, HIPAASecurityChecks } from 'cdk-nag';
import yaml from 'js-yaml';

export interface Acknowledgement {
  rule: string;
  resources: string[];
  reason: string;
}

export interface Finding {
  rule: string;
  resource: string;
  severity: 'error' | 'warning';
  description: string;
}

export interface NagReport {
  /** Errors no acknowledgement covers: each one fails the package. */
  errors: Finding[];
  warnings: Finding[];
  acknowledged: Finding[];
  /** Acknowledgement entries (rule + resource) that matched no finding. */
  unused: { rule: string; resource: string }[];
}

const STACK = 'Packaged';
const INCLUDE = 'Template';

/** `Packaged/Template/<LogicalId>` → `<LogicalId>`. */
function logicalId(constructPath: string): string {
  const parts = constructPath.split('/');
  return parts[parts.indexOf(INCLUDE) + 1] ?? constructPath;
}

export function readAcknowledgements(path: string): Acknowledgement[] {
  const parsed = yaml.load(readFileSync(path, 'utf8')) as { acknowledgements?: unknown };
  const list = parsed?.acknowledgements;
  if (!Array.isArray(list)) throw new Error(`${path}: expected a top-level "acknowledgements" list`);
  return list.map((entry, i) => {
    const { rule, resources, reason } = (entry ?? {}) as Partial<Acknowledgement>;
    if (typeof rule !== 'string' || !rule) throw new Error(`${path}: entry ${i + 1} has no rule`);
    if (!Array.isArray(resources) || resources.length === 0 || resources.some((r) => typeof r !== 'string'))
      throw new Error(`${path}: ${rule} must list the logical ids it covers (resources)`);
    if (typeof reason !== 'string' || reason.trim().length < 20)
      throw new Error(`${path}: ${rule} needs a reason a reviewer can accept`);
    return { rule, resources, reason };
  });
}

/** Runs both packs over the template and sorts every finding into error, warning or acknowledged. */
export function nagTemplate(templateFile: string, acknowledgements: Acknowledgement[]): NagReport {
  const outdir = mkdtempSync(join(tmpdir(), 'nag-'));
  try {
    const app = new App({ outdir });
    const stack = new Stack(app, STACK);
    new CfnInclude(stack, INCLUDE, { templateFile });
    const findings: Finding[] = [];
    for (const pack of [new HIPAASecurityChecks(), new AwsSolutionsChecks()]) {
      for (const violation of pack.validateScope(stack).violations) {
        for (const resource of violation.violatingResources) {
          findings.push({
            rule: violation.ruleName,
            resource: logicalId(resource.constructPath ?? ''),
            severity: violation.severity === 'error' ? 'error' : 'warning',
            description: violation.description,
          });
        }
      }
    }
    return sortFindings(findings, acknowledgements);
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

export function sortFindings(findings: Finding[], acknowledgements: Acknowledgement[]): NagReport {
  const covered = new Set(
    acknowledgements.flatMap((ack) => ack.resources.map((resource) => `${ack.rule}@${resource}`)),
  );
  const used = new Set<string>();
  const report: NagReport = { errors: [], warnings: [], acknowledged: [], unused: [] };
  for (const finding of findings) {
    const key = `${finding.rule}@${finding.resource}`;
    if (covered.has(key)) {
      used.add(key);
      report.acknowledged.push(finding);
    } else if (finding.severity === 'error') report.errors.push(finding);
    else report.warnings.push(finding);
  }
  for (const key of covered) {
    if (used.has(key)) continue;
    const at = key.lastIndexOf('@');
    report.unused.push({ rule: key.slice(0, at), resource: key.slice(at + 1) });
  }
  return report;
}

function main(): void {
  const templateFile = process.argv[2] ?? '.serverless/cloudformation-template-update-stack.json';
  const ackFile = process.argv[3] ?? 'nag-acknowledgements.yml';
  const report = nagTemplate(templateFile, readAcknowledgements(ackFile));
  const line = (f: Finding) => `  - ${f.rule} on ${f.resource}: ${f.description}`;
  for (const warning of report.warnings) console.warn(`nag warning:${line(warning).slice(3)}`);
  if (report.errors.length > 0 || report.unused.length > 0) {
    if (report.errors.length > 0) {
      console.error(`nag: ${report.errors.length} unacknowledged error(s) (HIPAA Security, AWS Solutions):`);
      for (const error of report.errors) console.error(line(error));
    }
    if (report.unused.length > 0) {
      console.error(
        `nag: ${report.unused.length} acknowledgement(s) in ${ackFile} match no finding; remove them:`,
      );
      for (const ack of report.unused) console.error(`  - ${ack.rule} on ${ack.resource}`);
    }
    process.exit(1);
  }
  console.log(
    `nag: HIPAA Security and AWS Solutions packs clean (${report.acknowledged.length} acknowledged finding(s), ${report.warnings.length} warning(s))`,
  );
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) main();
