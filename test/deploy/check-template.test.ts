import { loadAwsServiceSpec } from '@aws-cdk/aws-service-spec';
import type { SpecDatabase } from '@aws-cdk/service-spec-types';
import { beforeAll, describe, expect, it } from 'vitest';
import { type Template, TemplateChecker } from '../../scripts/check-template.js';

/** A small valid template (queue + DLQ + bucket) that each test bends one way. */
function templateWith(overrides: Record<string, unknown> = {}): Template {
  return structuredClone({
    Conditions: { UseVpc: { 'Fn::Equals': ['a', 'b'] } },
    Resources: {
      Dlq: { Type: 'AWS::SQS::Queue', Properties: { SqsManagedSseEnabled: true } },
      Queue: {
        Type: 'AWS::SQS::Queue',
        DependsOn: ['Dlq'],
        Properties: {
          VisibilityTimeout: 180,
          RedrivePolicy: { deadLetterTargetArn: { 'Fn::GetAtt': ['Dlq', 'Arn'] }, maxReceiveCount: 5 },
        },
      },
      Bucket: {
        Type: 'AWS::S3::Bucket',
        Properties: {
          // biome-ignore lint/suspicious/noTemplateCurlyInString: CloudFormation Fn::Sub syntax
          BucketName: { 'Fn::Sub': 'recordings-${AWS::AccountId}-${Queue.QueueName}' },
          PublicAccessBlockConfiguration: { BlockPublicAcls: true, RestrictPublicBuckets: 'true' },
          LifecycleConfiguration: {
            Rules: [
              { Status: 'Enabled', ExpirationInDays: { 'Fn::If': ['UseVpc', 30, { Ref: 'AWS::NoValue' }] } },
            ],
          },
        },
      },
      ...overrides,
    },
  }) as Template;
}

describe('check-template', () => {
  let db: SpecDatabase;
  beforeAll(async () => {
    db = await loadAwsServiceSpec();
  });
  const check = (template: Template) => new TemplateChecker(db).check(template);

  it('accepts a valid template, intrinsics included', () => {
    expect(check(templateWith())).toEqual([]);
  });

  it('names an unknown resource type', () => {
    const problems = check(templateWith({ Topic: { Type: 'AWS::SNS::Topik', Properties: {} } }));

    expect(problems).toEqual(['Topic: unknown resource type AWS::SNS::Topik']);
  });

  it('names unknown properties at the top level and nested inside lists', () => {
    // Prepare
    const template = templateWith();
    const bucket = template.Resources?.Bucket?.Properties as {
      Encryption?: object;
      LifecycleConfiguration: { Rules: Record<string, unknown>[] };
    };
    bucket.Encryption = {};
    Object.assign(bucket.LifecycleConfiguration.Rules[0] ?? {}, { ExpirationDays: 3 });

    // Act
    const problems = check(template);

    // Assess
    expect(problems).toEqual([
      'Bucket (AWS::S3::Bucket).LifecycleConfiguration.Rules[0]: unknown property ExpirationDays',
      'Bucket (AWS::S3::Bucket): unknown property Encryption',
    ]);
  });

  it('reports missing required properties and wrong value shapes, in both branches of Fn::If', () => {
    const problems = check(
      templateWith({
        Role: { Type: 'AWS::IAM::Role', Properties: { Path: '/' } },
        Other: {
          Type: 'AWS::SQS::Queue',
          Properties: { VisibilityTimeout: { 'Fn::If': ['UseVpc', 'soon', 30] } },
        },
      }),
    );

    expect(problems).toEqual([
      'Role (AWS::IAM::Role): required property AssumeRolePolicyDocument is missing',
      'Other (AWS::SQS::Queue).VisibilityTimeout: expected a number, got "soon"',
    ]);
  });

  it('reports references to missing resources, attributes and conditions', () => {
    const problems = check(
      templateWith({
        Alias: {
          Type: 'AWS::SQS::Queue',
          DependsOn: 'Ghost',
          Condition: 'NoSuchCondition',
          Properties: {
            // biome-ignore lint/suspicious/noTemplateCurlyInString: CloudFormation Fn::Sub syntax
            QueueName: { 'Fn::Sub': '${Missing.Arn}' },
            RedrivePolicy: { deadLetterTargetArn: { 'Fn::GetAtt': ['Dlq', 'Nope'] } },
          },
        },
      }),
    );

    expect(problems).toEqual([
      'Alias: DependsOn "Ghost" is not a resource of the template',
      'Alias: Condition "NoSuchCondition" is not defined',
      'Alias.Properties.QueueName: reference to "Missing", which is not a resource or parameter',
      'Alias.Properties.RedrivePolicy.deadLetterTargetArn: AWS::SQS::Queue "Dlq" has no attribute Nope',
    ]);
  });
});
