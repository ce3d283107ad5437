import { createHash } from 'node:crypto';
import { AwsRequestError, awsJsonRequest } from './request.js';

export interface SendMessageInput {
  queueUrl: string;
  body: string;
  /** 0 to 900 seconds. */
  delaySeconds?: number;
}

export interface SqsOptions {
  /** `SQS_ENDPOINT` by default: the local stand-in in tests. */
  endpoint?: string;
  timeoutMs?: number;
  env?: Record<string, string | undefined>;
}

/** SQS `SendMessage` over the JSON protocol; checks the body digest SQS answers, as the SDK does. */
export async function sqsSendMessage(
  input: SendMessageInput,
  options: SqsOptions = {},
): Promise<{ messageId: string }> {
  const env = options.env ?? process.env;
  const answer = await awsJsonRequest<{ MessageId?: string; MD5OfMessageBody?: string }>({
    service: 'sqs',
    target: 'AmazonSQS.SendMessage',
    jsonVersion: '1.0',
    input: {
      QueueUrl: input.queueUrl,
      MessageBody: input.body,
      ...(input.delaySeconds ? { DelaySeconds: input.delaySeconds } : {}),
    },
    endpoint: options.endpoint ?? (env.SQS_ENDPOINT || undefined),
    timeoutMs: options.timeoutMs ?? 3000,
    env,
  });
  const digest = createHash('md5').update(input.body, 'utf8').digest('hex');
  if (!answer.MessageId || answer.MD5OfMessageBody !== digest) {
    throw new AwsRequestError(
      'sqs',
      'BadResponse',
      'SendMessage answer lacks the id or the body digest differs',
    );
  }
  return { messageId: answer.MessageId };
}
