import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  type CfnResource,
  type CfnTemplate,
  isPackaged,
  type Json,
  PACKAGE_DIR,
  readPackagedTemplate,
  referencedId,
  resourcesOfType,
  zipEntries,
} from './packaged.js';

/**
 * The contract's routes (CONTRACT.md, "HTTP routes"). Each path takes every method at the API, so a wrong one
 * reaches the function and gets the contract's 405 and a webhook_logs row, not API Gateway's bare 404.
 */
const CONTRACT_ROUTES = [
  'ANY /webhooks/twilio/voice/incoming',
  'ANY /webhooks/twilio/voice/status',
  'ANY /webhooks/twilio/sms/incoming',
  'ANY /webhooks/twilio/sms/status',
  'ANY /webhooks/twilio/recording/status',
  'ANY /webhooks/voipms/sms/incoming',
  'ANY /webhooks/voipms/call/cdr',
  'ANY /webhooks/voipms/recording/ready',
];
const SECRETS = ['TWILIO_AUTH_TOKEN', 'VOIPMS_PASSWORD', 'VOIPMS_WEBHOOK_TOKEN', 'DATABASE_URL'];
const DATA_SERVICES = ['sqs', 's3', 'kms', 'ssm'];
/**
 * A ceiling that catches a heavy import slipping into a webhook (the full twilio SDK is 3.7 MB, full zod
 * 445 KB). The 150 KB target itself is a benchmark figure (`npm run bench`), reported per function.
 */
const MAX_HTTP_BUNDLE_BYTES = 256 * 1024;

const packaged = isPackaged();
const skipReason = packaged ? '' : ' [skipped: .serverless/ is missing; `npm run package` builds it]';

type Statement = { Effect: string; Action: Json; Resource: Json };
interface BucketProperties {
  PublicAccessBlockConfiguration: Record<string, boolean>;
  BucketEncryption: {
    ServerSideEncryptionConfiguration: {
      ServerSideEncryptionByDefault: { SSEAlgorithm: string; KMSMasterKeyID: Json };
      BucketKeyEnabled: boolean;
    }[];
  };
  LifecycleConfiguration: { Rules: { Status: string; ExpirationInDays?: Json }[] };
}

const asList = (value: Json | undefined): Json[] =>
  Array.isArray(value) ? value : value === undefined ? [] : [value];

function roleStatements(role: CfnResource): Statement[] {
  const policies = asList(role.Properties.Policies) as { PolicyDocument: { Statement: Json } }[];
  return policies.flatMap((policy) => asList(policy.PolicyDocument.Statement) as Statement[]);
}

/** Literal text of a resource ARN as written, so `*` wildcards are visible even inside Fn::Sub. */
function resourceText(resource: Json): string {
  if (typeof resource === 'string') return resource;
  if (
    resource &&
    typeof resource === 'object' &&
    !Array.isArray(resource) &&
    typeof resource['Fn::Sub'] === 'string'
  ) {
    return resource['Fn::Sub'];
  }
  return JSON.stringify(resource);
}

describe(`packaged CloudFormation template${skipReason}`, () => {
  let template: CfnTemplate;
  let functions: [string, CfnResource][];

  beforeAll(() => {
    if (!packaged) return;
    template = readPackagedTemplate();
    functions = resourcesOfType(template, 'AWS::Lambda::Function');
  });

  it.skipIf(!packaged)('serves exactly the contract routes, each wired to a function', () => {
    // Prepare
    const routes = resourcesOfType(template, 'AWS::ApiGatewayV2::Route');
    const integrations = new Map(resourcesOfType(template, 'AWS::ApiGatewayV2::Integration'));

    // Act
    const routeKeys = routes.map(([, route]) => route.Properties.RouteKey);
    const targets = routes.map(([, route]) => {
      const target = route.Properties.Target as { 'Fn::Join': [string, Json[]] };
      return integrations.get(referencedId(target['Fn::Join'][1][1]) ?? '');
    });

    // Assess
    expect(routeKeys.sort()).toEqual([...CONTRACT_ROUTES].sort());
    for (const integration of targets) {
      expect(integration?.Properties.PayloadFormatVersion).toBe('2.0');
    }
  });

  it.skipIf(!packaged)('throttles the API stage by default route settings', () => {
    const [[, stage] = ['', undefined]] = resourcesOfType(template, 'AWS::ApiGatewayV2::Stage');

    const settings = stage?.Properties.DefaultRouteSettings as Record<string, number>;

    expect(settings.ThrottlingBurstLimit).toBeGreaterThan(0);
    expect(settings.ThrottlingRateLimit).toBeGreaterThan(0);
  });

  it.skipIf(!packaged)('gives every function its own role, and no shared default role exists', () => {
    const roleIds = functions.map(([, fn]) => referencedId(fn.Properties.Role));

    expect(template.Resources.IamRoleLambdaExecution).toBeUndefined();
    expect(new Set(roleIds).size).toBe(functions.length);
    for (const id of roleIds) expect(template.Resources[id ?? '']?.Type).toBe('AWS::IAM::Role');
  });

  it.skipIf(!packaged)('grants no wildcard action, and no wildcard resource on SQS, S3, KMS or SSM', () => {
    // Prepare
    const problems: string[] = [];

    // Act
    for (const [id, role] of resourcesOfType(template, 'AWS::IAM::Role')) {
      for (const statement of roleStatements(role)) {
        if (statement.Effect !== 'Allow') continue;
        const actions = asList(statement.Action).map(String);
        const resources = asList(statement.Resource).map(resourceText);
        for (const action of actions) {
          const [service, verb] = action.split(':');
          if (action === '*' || verb?.includes('*')) problems.push(`${id}: action ${action}`);
          if (DATA_SERVICES.includes(service ?? '')) {
            for (const resource of resources) {
              if (resource === '*' || /:(\*|[^:/]*\*)$/.test(resource))
                problems.push(`${id}: ${action} on ${resource}`);
            }
          }
        }
      }
    }

    // Assess
    expect(problems).toEqual([]);
  });

  it.skipIf(!packaged)('lets each function read exactly the SSM parameters its environment names', () => {
    for (const [id, fn] of functions) {
      // Prepare
      const env = (fn.Properties.Environment as { Variables: Record<string, Json> }).Variables;
      const role = template.Resources[referencedId(fn.Properties.Role) ?? ''] as CfnResource;

      // Act
      const named = Object.entries(env)
        .filter(([name]) => name.endsWith('_PARAM'))
        .map(([, value]) => String(value));
      const allowed = roleStatements(role)
        .filter((s) => asList(s.Action).includes('ssm:GetParameters'))
        .flatMap((s) => asList(s.Resource).map(resourceText))
        .map((arn) => arn.replace(/^.*:parameter/, ''));

      // Assess
      expect(allowed.sort(), id).toEqual(named.sort());
    }
  });

  it.skipIf(!packaged)('holds secrets only as SSM parameter names, never their values', () => {
    const text = JSON.stringify(template);

    for (const [, fn] of functions) {
      const env = (fn.Properties.Environment as { Variables: Record<string, Json> }).Variables;
      for (const secret of SECRETS) {
        expect(env[secret]).toBeUndefined();
        if (env[`${secret}_PARAM`] !== undefined) expect(env[`${secret}_PARAM`]).toMatch(/^\/[\w./-]+$/);
      }
    }
    expect(text).not.toMatch(/postgres(ql)?:\/\//);
    for (const secret of SECRETS) {
      const value = process.env[secret];
      if (value && value.length >= 6) expect(text.includes(value), `${secret} value in template`).toBe(false);
    }
  });

  it.skipIf(!packaged)('gives every work queue a dead-letter queue after 5 receives, all encrypted', () => {
    // Prepare
    const queues = new Map(resourcesOfType(template, 'AWS::SQS::Queue'));
    const dlqIds = new Set<string>();
    const timeouts = new Map(functions.map(([id, fn]) => [id, Number(fn.Properties.Timeout ?? 6)]));

    // Act
    const mappings = resourcesOfType(template, 'AWS::Lambda::EventSourceMapping');
    for (const [, queue] of queues) {
      const redrive = queue.Properties.RedrivePolicy as { deadLetterTargetArn: Json } | undefined;
      if (redrive) dlqIds.add(referencedId(redrive.deadLetterTargetArn) ?? '');
    }

    // Assess
    expect(queues.size).toBe(6);
    for (const [id, queue] of queues) {
      expect(queue.Properties.SqsManagedSseEnabled, id).toBe(true);
      if (dlqIds.has(id)) continue;
      const redrive = queue.Properties.RedrivePolicy as {
        deadLetterTargetArn: Json;
        maxReceiveCount: number;
      };
      expect(redrive, `${id} has no redrive policy`).toBeDefined();
      expect(redrive.maxReceiveCount).toBe(5);
      expect(queues.get(referencedId(redrive.deadLetterTargetArn) ?? '')).toBeDefined();
    }
    expect(mappings).toHaveLength(3);
    for (const [, mapping] of mappings) {
      const queue = queues.get(referencedId(mapping.Properties.EventSourceArn) ?? '') as CfnResource;
      const consumer = referencedId(mapping.Properties.FunctionName) ?? '';
      expect(mapping.Properties.FunctionResponseTypes).toEqual(['ReportBatchItemFailures']);
      expect(Number(queue.Properties.VisibilityTimeout)).toBeGreaterThanOrEqual(
        6 * (timeouts.get(consumer) ?? 0),
      );
    }
  });

  it.skipIf(!packaged)(
    'keeps the recordings bucket private, SSE-KMS encrypted, TLS-only and expiring',
    () => {
      // Prepare
      const id = 'RecordingsBucket';
      const props = template.Resources[id]?.Properties as unknown as BucketProperties;
      const policy = resourcesOfType(template, 'AWS::S3::BucketPolicy').find(
        ([, p]) => referencedId(p.Properties.Bucket) === id,
      )?.[1];

      // Act
      const [rule] = props.BucketEncryption.ServerSideEncryptionConfiguration;
      const lifecycle = props.LifecycleConfiguration.Rules;
      const statements = (policy?.Properties.PolicyDocument as { Statement: Json[] } | undefined)?.Statement;

      // Assess
      expect(props.PublicAccessBlockConfiguration).toEqual({
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      });
      expect(rule?.ServerSideEncryptionByDefault.SSEAlgorithm).toBe('aws:kms');
      const keyId = referencedId(rule?.ServerSideEncryptionByDefault.KMSMasterKeyID);
      expect(template.Resources[keyId ?? '']?.Type).toBe('AWS::KMS::Key');
      expect(rule?.BucketKeyEnabled).toBe(true);
      expect(lifecycle.some((r) => r.Status === 'Enabled' && Number(r.ExpirationInDays) > 0)).toBe(true);
      expect(statements).toContainEqual(
        expect.objectContaining({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
      );
    },
  );

  it.skipIf(!packaged)('caps reserved concurrency within the Postgres connection budget', () => {
    const budget = Number(template.Outputs?.MaxDbConnections?.Value);

    const reserved = functions.map(([, fn]) => fn.Properties.ReservedConcurrentExecutions);
    const total = reserved.reduce<number>((sum, value) => sum + Number(value), 0);

    expect(budget).toBeGreaterThan(0);
    expect(reserved.every((value) => Number(value) >= 1)).toBe(true);
    expect(total).toBeLessThanOrEqual(budget);
  });

  it.skipIf(!packaged)(
    'schedules the pollers and purge, and routes Transcribe job changes to the writer',
    () => {
      const rules = resourcesOfType(template, 'AWS::Events::Rule').map(([, rule]) => rule.Properties);

      const schedules = rules.map((rule) => rule.ScheduleExpression).filter(Boolean);
      const transcribe = rules.find((rule) =>
        JSON.stringify(rule.EventPattern ?? '').includes('aws.transcribe'),
      );

      expect(schedules.sort()).toEqual(['rate(1 day)', 'rate(10 minutes)', 'rate(5 minutes)']);
      expect(transcribe?.EventPattern).toMatchObject({ 'detail-type': ['Transcribe Job State Change'] });
    },
  );

  it.skipIf(!packaged)('alarms on every DLQ, every function, worker queue age and refusal spikes', () => {
    const alarms = resourcesOfType(template, 'AWS::CloudWatch::Alarm').map(([, alarm]) =>
      JSON.stringify(alarm),
    );

    const watching = (needle: string) => alarms.filter((alarm) => alarm.includes(needle)).length;

    for (const dlq of ['OutboundSmsDlq', 'RecordingsDlq', 'IngestDlq'])
      expect(watching(`"${dlq}"`), dlq).toBe(1);
    for (const [id] of functions) expect(watching(`"${id}"`), id).toBeGreaterThanOrEqual(1);
    expect(watching('ApproximateAgeOfOldestMessage')).toBe(3);
    expect(watching('RequestRefused')).toBe(1);
    expect(alarms.every((alarm) => alarm.includes('"AlarmTopic"'))).toBe(true);
  });

  it.skipIf(!packaged)(
    'ships one zip per function, no HTTP bundle carrying a heavy library (over 256 KB)',
    () => {
      // Prepare
      const permissions = resourcesOfType(template, 'AWS::Lambda::Permission');
      const httpFunctions = new Set(
        permissions
          .filter(([, p]) => p.Properties.Principal === 'apigateway.amazonaws.com')
          .map(([, p]) => referencedId(p.Properties.FunctionName)),
      );

      for (const [id, fn] of functions) {
        // Act
        const key = String((fn.Properties.Code as { S3Key: Json }).S3Key);
        const zip = join(PACKAGE_DIR, key.slice(key.lastIndexOf('/') + 1));
        const js = existsSync(zip) ? zipEntries(zip).filter((entry) => /\.[cm]?js$/.test(entry.name)) : [];
        const bytes = js.reduce((sum, entry) => sum + entry.size, 0);

        // Assess
        expect(existsSync(zip), `${zip} missing`).toBe(true);
        expect(js.length, `${id} bundle`).toBeGreaterThan(0);
        if (httpFunctions.has(id))
          expect(bytes, `${id} bundle bytes`).toBeLessThanOrEqual(MAX_HTTP_BUNDLE_BYTES);
      }
      expect(httpFunctions.size).toBe(8);
    },
  );
});
