import { awsJsonRequest } from './request.js';

export interface SsmOptions {
  /** `SSM_ENDPOINT` by default (a local fake in tests). */
  endpoint?: string;
  timeoutMs?: number;
  env?: Record<string, string | undefined>;
}

export interface ParametersAnswer {
  /** Name → value (decrypted). */
  values: Map<string, string>;
  /** Names that do not exist. */
  invalid: string[];
}

/** SSM `GetParameters` with decryption, 10 names per request (the API's limit). */
export async function ssmGetParameters(
  names: readonly string[],
  options: SsmOptions = {},
): Promise<ParametersAnswer> {
  const env = options.env ?? process.env;
  const answer: ParametersAnswer = { values: new Map(), invalid: [] };
  for (let start = 0; start < names.length; start += 10) {
    const page = await awsJsonRequest<{
      Parameters?: { Name: string; Value: string }[];
      InvalidParameters?: string[];
    }>({
      service: 'ssm',
      target: 'AmazonSSM.GetParameters',
      jsonVersion: '1.1',
      input: { Names: names.slice(start, start + 10), WithDecryption: true },
      endpoint: options.endpoint ?? (env.SSM_ENDPOINT || undefined),
      timeoutMs: options.timeoutMs ?? 2000,
      env,
    });
    for (const parameter of page.Parameters ?? []) answer.values.set(parameter.Name, parameter.Value);
    answer.invalid.push(...(page.InvalidParameters ?? []));
  }
  return answer;
}
