import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  asList,
  bundleBytes,
  type CfnResource,
  type CfnTemplate,
  functionRole,
  isPackaged,
  type Json,
  PACKAGE_DIR,
  readPackagedTemplate,
  referencedId,
  resourcesOfType,
  rolePolicyIds,
  roleStatements,
  stalePackageReason,
  unzip,
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
 * A ceiling that catches a heavy import slipping into a webhook bundle (the full twilio SDK is 3.7 MB, an AWS SDK
 * client several hundred KB). DESIGN.md's 150 KB target is a benchmark figure (`npm run bench`, bundles step),
 * reported per function with its target; the SMS routes are above it today (docs/testing.md).
 */
const MAX_HTTP_BUNDLE_BYTES = 240 * 1024;
/** Only an SDK client carries its class name beside its service target (a signed request would not). */
const SDK_CLIENT_MARKERS = ['"AmazonSQS","SQSClient"', '"AmazonSSM","SSMClient"'];
/** Functions invoked asynchronously (schedules, EventBridge rules): each needs a dead-letter target. */
const ASYNC_FUNCTIONS = [
  'TranscriptWriterLambdaFunction',
  'VoipmsCdrPollerLambdaFunction',
  'VoipmsRecordingPollerLambdaFunction',
  'VoipmsDeliveryPollerLambdaFunction',
  'RetentionPurgeLambdaFunction',
  'FollowUpRelayLambdaFunction',
  'TranscriptionSweeperLambdaFunction',
  'AlertSubscriberLambdaFunction',
];
/** What an access log line may carry: ids, route, outcome, timing, caller IP. No path, query, header or body. */
const ACCESS_LOG_FIELDS = new Set([
  '$context.requestId',
  '$context.requestTime',
  '$context.routeKey',
  '$context.status',
  '$context.responseLatency',
  '$context.integrationLatency',
  '$context.integration.status',
  '$context.identity.sourceIp',
  '$context.protocol',
  '$context.responseLength',
]);

const packaged = isPackaged();
const skipReason = packaged ? '' : ' [skipped: .serverless/ is missing; `npm run package` builds it]';

interface BucketProperties {
  PublicAccessBlockConfiguration: Record<string, boolean>;
  BucketEncryption: {
    ServerSideEncryptionConfiguration: {
      ServerSideEncryptionByDefault: { SSEAlgorithm: string; KMSMasterKeyID: Json };
      BucketKeyEnabled: boolean;
    }[];
  };
  LifecycleConfiguration: {
    Rules: {
      Status: string;
      ExpirationInDays?: Json;
      NoncurrentVersionExpiration?: { NoncurrentDays: Json };
      ExpiredObjectDeleteMarker?: boolean;
    }[];
  };
  VersioningConfiguration?: { Status: string };
  LoggingConfiguration?: { DestinationBucketName: Json };
}

const TLS_ONLY = { Bool: { 'aws:SecureTransport': 'false' } };

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

  it.skipIf(!packaged)('was built from the current sources (a stale package is refused)', () => {
    expect(stalePackageReason()).toBeUndefined();
  });

  it.skipIf(!packaged)('runs every function on Node.js 24, the latest Lambda runtime', () => {
    for (const [id, fn] of functions) expect(fn.Properties.Runtime, id).toBe('nodejs24.x');
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

  it.skipIf(!packaged)(
    'access-logs the API with no query string, path, header or body (no PHI, no token)',
    () => {
      // Prepare
      const [[, stage] = ['', undefined]] = resourcesOfType(template, 'AWS::ApiGatewayV2::Stage');
      const logs = stage?.Properties.AccessLogSettings as { DestinationArn: Json; Format: string };

      // Act
      const fields = logs.Format.match(/\$context\.[\w.]+/g) ?? [];
      const logGroup = template.Resources[referencedId(logs.DestinationArn) ?? ''];

      // Assess
      expect(fields.filter((field) => !ACCESS_LOG_FIELDS.has(field))).toEqual([]);
      for (const needed of [
        '$context.requestId',
        '$context.routeKey',
        '$context.status',
        '$context.identity.sourceIp',
      ])
        expect(fields).toContain(needed);
      expect(logs.Format).not.toMatch(/\$input|\$request|querystring|path/i);
      expect(logGroup?.Type).toBe('AWS::Logs::LogGroup');
    },
  );

  it.skipIf(!packaged)(
    'encrypts every log group with the customer-managed operations key, and expires it',
    () => {
      const logGroups = resourcesOfType(template, 'AWS::Logs::LogGroup');

      expect(logGroups.length).toBe(functions.length + 1); // + the API access log
      for (const [id, group] of logGroups) {
        expect(template.Resources[referencedId(group.Properties.KmsKeyId) ?? '']?.Type, id).toBe(
          'AWS::KMS::Key',
        );
        expect(Number(group.Properties.RetentionInDays), id).toBeGreaterThan(0);
      }
    },
  );

  it.skipIf(!packaged)(
    'gives every function its own role with one managed policy and no inline policy',
    () => {
      const roleIds = functions.map(([, fn]) => referencedId(fn.Properties.Role));

      const own = functions.map(([id]) => {
        const role = functionRole(template, id);
        return rolePolicyIds(template, role).filter((policy) => !template.Resources[policy]?.Condition);
      });

      expect(template.Resources.IamRoleLambdaExecution).toBeUndefined();
      expect(new Set(roleIds).size).toBe(functions.length);
      for (const id of roleIds) expect(template.Resources[id ?? '']?.Type).toBe('AWS::IAM::Role');
      expect(resourcesOfType(template, 'AWS::IAM::Policy')).toEqual([]);
      for (const [, role] of resourcesOfType(template, 'AWS::IAM::Role'))
        expect(role.Properties.Policies).toBeUndefined();
      for (const policies of own) expect(policies).toHaveLength(1);
      expect(new Set(own.flat()).size).toBe(functions.length);
    },
  );

  it.skipIf(!packaged)(
    'sends the failed events of every asynchronously invoked function to an alarmed DLQ',
    () => {
      for (const id of ASYNC_FUNCTIONS) {
        // Prepare
        const fn = template.Resources[id] as CfnResource;

        // Act
        const target = referencedId(
          (fn.Properties.DeadLetterConfig as { TargetArn: Json } | undefined)?.TargetArn,
        );
        const canSend = roleStatements(template, functionRole(template, id)).some(
          (s) =>
            asList(s.Action).includes('sqs:SendMessage') &&
            asList(s.Resource).some((r) => referencedId(r) === target),
        );

        // Assess
        expect(template.Resources[target ?? '']?.Type, id).toBe('AWS::SQS::Queue');
        expect(canSend, `${id} may send to its DLQ`).toBe(true);
      }
      const rules = resourcesOfType(template, 'AWS::Events::Rule').flatMap(([, rule]) =>
        asList(rule.Properties.Targets).map((t) => referencedId((t as { Arn: Json }).Arn)),
      );
      expect(new Set(rules)).toEqual(new Set(ASYNC_FUNCTIONS));
    },
  );

  it.skipIf(!packaged)('grants no wildcard action, and no wildcard resource on SQS, S3, KMS or SSM', () => {
    // Prepare
    const problems: string[] = [];

    // Act
    for (const [id, role] of resourcesOfType(template, 'AWS::IAM::Role')) {
      for (const statement of roleStatements(template, role)) {
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
      const allowed = roleStatements(template, role)
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

  it.skipIf(!packaged)(
    'gives every work queue a dead-letter queue after 5 receives, all encrypted and TLS-only',
    () => {
      // Prepare
      const queues = new Map(resourcesOfType(template, 'AWS::SQS::Queue'));
      const dlqIds = new Set<string>(
        functions.map(
          ([, fn]) => referencedId((fn.Properties.DeadLetterConfig as { TargetArn: Json })?.TargetArn) ?? '',
        ),
      );
      const tlsOnly = new Set(
        resourcesOfType(template, 'AWS::SQS::QueuePolicy')
          .filter(([, policy]) =>
            asList((policy.Properties.PolicyDocument as { Statement: Json }).Statement).some((statement) =>
              expect
                .objectContaining({ Effect: 'Deny', Principal: '*', Condition: TLS_ONLY })
                .asymmetricMatch(statement),
            ),
          )
          .flatMap(([, policy]) => asList(policy.Properties.Queues).map((queue) => referencedId(queue))),
      );
      const timeouts = new Map(functions.map(([id, fn]) => [id, Number(fn.Properties.Timeout ?? 6)]));

      // Act
      const mappings = resourcesOfType(template, 'AWS::Lambda::EventSourceMapping');
      for (const [, queue] of queues) {
        const redrive = queue.Properties.RedrivePolicy as { deadLetterTargetArn: Json } | undefined;
        if (redrive) dlqIds.add(referencedId(redrive.deadLetterTargetArn) ?? '');
      }
      // EventBridge rule targets may have their own dead-letter queue (the alert subscriber's).
      for (const [, rule] of resourcesOfType(template, 'AWS::Events::Rule')) {
        for (const target of asList(rule.Properties.Targets) as { DeadLetterConfig?: { Arn: Json } }[]) {
          if (target.DeadLetterConfig) dlqIds.add(referencedId(target.DeadLetterConfig.Arn) ?? '');
        }
      }

      // Assess
      expect(queues.size).toBe(8);
      for (const [id, queue] of queues) {
        expect(queue.Properties.SqsManagedSseEnabled, id).toBe(true);
        expect(tlsOnly.has(id), `${id} refuses non-TLS requests`).toBe(true);
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
    },
  );

  it.skipIf(!packaged)(
    'keeps the recordings bucket private, SSE-KMS encrypted, TLS-only, versioned, access-logged and expiring',
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
      expect(statements).toContainEqual(expect.objectContaining({ Effect: 'Deny', Condition: TLS_ONLY }));
      expect(lifecycle.some((r) => r.Status === 'Enabled' && Number(r.ExpirationInDays) > 0)).toBe(true);
      expect(props.VersioningConfiguration?.Status).toBe('Enabled');
      const logs = template.Resources[referencedId(props.LoggingConfiguration?.DestinationBucketName) ?? ''];
      expect(logs?.Type).toBe('AWS::S3::Bucket');
    },
  );

  it.skipIf(!packaged)(
    'really deletes PHI in the versioned bucket: purged or expired versions go a day later, markers too',
    () => {
      // Prepare
      const props = template.Resources.RecordingsBucket?.Properties as unknown as BucketProperties;
      const retentionDays = Number(
        (
          (template.Resources.RetentionPurgeLambdaFunction as CfnResource).Properties.Environment as {
            Variables: Record<string, Json>;
          }
        ).Variables.RECORDING_RETENTION_DAYS,
      );

      // Act
      const rules = props.LifecycleConfiguration.Rules.filter((rule) => rule.Status === 'Enabled');
      const expiry = rules.find((rule) => rule.ExpirationInDays !== undefined);
      const markers = rules.find((rule) => rule.ExpiredObjectDeleteMarker === true);

      // Assess
      // The current version expires with the retention the purge applies (a day of slack for the daily run),
      // and whatever the purge or the expiry leaves as a noncurrent version is removed the next day.
      expect(Number(expiry?.ExpirationInDays)).toBeGreaterThanOrEqual(retentionDays);
      expect(Number(expiry?.ExpirationInDays)).toBeLessThanOrEqual(retentionDays + 1);
      expect(Number(expiry?.NoncurrentVersionExpiration?.NoncurrentDays)).toBe(1);
      expect(markers).toBeDefined();
      const purge = roleStatements(template, functionRole(template, 'RetentionPurgeLambdaFunction'));
      expect(purge.some((s) => asList(s.Action).includes('s3:DeleteObject'))).toBe(true);
    },
  );

  it.skipIf(!packaged)(
    'blocks public access to the deployment and access-log buckets, versioned, TLS-only',
    () => {
      for (const id of ['ServerlessDeploymentBucket', 'AccessLogsBucket']) {
        const props = template.Resources[id]?.Properties as unknown as BucketProperties;
        const policy = resourcesOfType(template, 'AWS::S3::BucketPolicy').find(
          ([, p]) => referencedId(p.Properties.Bucket) === id,
        )?.[1];

        const statements = asList(
          (policy?.Properties.PolicyDocument as { Statement?: Json } | undefined)?.Statement,
        );

        expect(Object.values(props.PublicAccessBlockConfiguration), id).toEqual([true, true, true, true]);
        expect(props.VersioningConfiguration?.Status, id).toBe('Enabled');
        expect(statements, id).toContainEqual(expect.objectContaining({ Effect: 'Deny' }));
        expect(JSON.stringify(statements)).toContain('aws:SecureTransport');
      }
    },
  );

  it.skipIf(!packaged)('encrypts the alarm topic with KMS and refuses non-TLS publishing', () => {
    const topic = template.Resources.AlarmTopic as CfnResource;
    const [[, policy] = ['', undefined]] = resourcesOfType(template, 'AWS::SNS::TopicPolicy');

    const statements = asList(
      (policy?.Properties.PolicyDocument as { Statement?: Json } | undefined)?.Statement,
    );

    expect(template.Resources[referencedId(topic.Properties.KmsMasterKeyId) ?? '']?.Type).toBe(
      'AWS::KMS::Key',
    );
    expect(asList(policy?.Properties.Topics).map((t) => referencedId(t))).toEqual(['AlarmTopic']);
    expect(statements).toContainEqual(expect.objectContaining({ Effect: 'Deny', Condition: TLS_ONLY }));
  });

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

      expect(schedules.sort()).toEqual([
        'rate(1 day)',
        'rate(1 minute)',
        'rate(10 minutes)',
        'rate(15 minutes)',
        'rate(5 minutes)',
        'rate(5 minutes)',
      ]);
      expect(transcribe?.EventPattern).toMatchObject({ 'detail-type': ['Transcribe Job State Change'] });
    },
  );

  it.skipIf(!packaged)('alarms on every DLQ, every function, worker queue age and refusal spikes', () => {
    const alarms = resourcesOfType(template, 'AWS::CloudWatch::Alarm').map(([, alarm]) =>
      JSON.stringify(alarm),
    );

    const watching = (needle: string) => alarms.filter((alarm) => alarm.includes(needle)).length;

    for (const dlq of [
      'OutboundSmsDlq',
      'RecordingsDlq',
      'IngestDlq',
      'AsyncFailuresDlq',
      'AlertSubscriberDlq',
    ])
      expect(watching(`"${dlq}"`), dlq).toBe(1);
    for (const [id] of functions) expect(watching(`"${id}"`), id).toBeGreaterThanOrEqual(1);
    expect(watching('ApproximateAgeOfOldestMessage')).toBe(3);
    expect(watching('RequestRefused')).toBe(1);
    expect(alarms.every((alarm) => alarm.includes('"AlarmTopic"'))).toBe(true);
  });

  it.skipIf(!packaged)('ships one zip per function, each HTTP bundle within its budget', () => {
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
      expect(existsSync(zip), `${zip} missing`).toBe(true);
      const files = unzip(zip);
      const code = [...files]
        .filter(([name]) => /\.[cm]?js$/.test(name))
        .map(([, content]) => content.toString());
      const bytes = bundleBytes(zip);
      const carriesSdk = code.some((text) => SDK_CLIENT_MARKERS.some((marker) => text.includes(marker)));

      // Assess
      expect(code.length, `${id} bundle`).toBeGreaterThan(0);
      expect(
        [...files.keys()].some((name) => name.startsWith('node_modules/')),
        `${id} node_modules`,
      ).toBe(false);
      if (httpFunctions.has(id)) {
        // The webhooks send their few AWS calls (SQS, SSM) as signed requests: no SDK client in their bundles.
        expect(carriesSdk, `${id} carries an AWS SDK client`).toBe(false);
        expect(bytes, `${id} bundle bytes`).toBeLessThanOrEqual(MAX_HTTP_BUNDLE_BYTES);
      }
    }
    expect(httpFunctions.size).toBe(8);
  });
});
