import { readFileSync } from 'node:fs';
import yaml from 'js-yaml';

export interface FunctionEntry {
  name: string;
  /** Source file relative to the repository root, without extension, e.g. `functions/twilio-sms-status`. */
  file: string;
  http: { method: string; path: string }[];
  /** Queue consumed, for SQS-triggered workers (`outboundSms`, `recordings`, `ingest`). */
  queue?: string;
  schedule?: string;
}

// serverless.yml uses CloudFormation short tags (!Ref, !GetAtt…); here they only need to parse.
const cfnTags = [
  'Ref',
  'GetAtt',
  'Sub',
  'Join',
  'If',
  'Equals',
  'Not',
  'Select',
  'Split',
  'ImportValue',
  'Condition',
].flatMap((tag) =>
  (['scalar', 'sequence', 'mapping'] as const).map(
    (kind) => new yaml.Type(`!${tag}`, { kind, construct: (data: unknown) => ({ [`Fn::${tag}`]: data }) }),
  ),
);
/** YAML schema that reads serverless.yml, CloudFormation short tags included. */
export const serverlessYamlSchema = yaml.DEFAULT_SCHEMA.extend(cfnTags);

interface ServerlessFunction {
  handler: string;
  events?: Array<{
    httpApi?: { method: string; path: string };
    sqs?: { arn: { 'Fn::GetAtt'?: [string, string] } };
    schedule?: string | { rate: string };
  }>;
}

/** The functions and their triggers, read from serverless.yml: one source of truth for AWS and the local run. */
export function readFunctions(serverlessYml: string): FunctionEntry[] {
  const doc = yaml.load(readFileSync(serverlessYml, 'utf8'), { schema: serverlessYamlSchema }) as {
    functions: Record<string, ServerlessFunction>;
  };
  return Object.entries(doc.functions).map(([name, fn]) => {
    const entry: FunctionEntry = { name, file: fn.handler.replace(/\.[^./]+$/, ''), http: [] };
    for (const event of fn.events ?? []) {
      if (event.httpApi)
        entry.http.push({ method: event.httpApi.method.toUpperCase(), path: event.httpApi.path });
      // `OutboundSmsQueue` → `outboundSms`: the queue's logical id names it.
      const queueId = event.sqs?.arn?.['Fn::GetAtt']?.[0];
      if (queueId) entry.queue = queueId.replace(/Queue$/, '').replace(/^./, (c) => c.toLowerCase());
      if (event.schedule)
        entry.schedule = typeof event.schedule === 'string' ? event.schedule : event.schedule.rate;
    }
    return entry;
  });
}
