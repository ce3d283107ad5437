/**
 * What AWS calls each function's code may make, derived from the code itself: the handler bundled and
 * tree-shaken by esbuild (packages external), then the SDK commands that code constructs and the queues it
 * names in `sendMessage('<queue>', …)`. Command names are unique across the SDK clients used here. test/deploy/permissions.test.ts checks each call against the function's role.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';
import yaml from 'js-yaml';

const ROOT = join(import.meta.dirname, '..', '..');

/** A resource an AWS call touches, named the way the template names it. */
export type ResourceRef =
  | { kind: 'logical'; id: string } // Ref / Fn::GetAtt of a resource (queue, key, event bus)
  | { kind: 'objects'; bucket: string; prefix: string } // objects of a bucket, under a key prefix
  | { kind: 'arn'; contains: string } // an ARN built with Fn::Sub (e.g. transcription-job/)
  | { kind: 'ssm' }; // the SSM parameters of the environment (checked by template.test.ts)

export interface AwsCall {
  action: string;
  resource: ResourceRef;
  /** The file (and command) the call was found in, for failure messages. */
  from: string;
}

const QUEUES: Record<string, string> = {
  outboundSms: 'OutboundSmsQueue',
  recordings: 'RecordingsQueue',
  ingest: 'IngestQueue',
};
const RECORDING_OBJECTS: ResourceRef = { kind: 'objects', bucket: 'RecordingsBucket', prefix: '' };
const RECORDINGS_KEY: ResourceRef = { kind: 'logical', id: 'RecordingsKey' };
const TRANSCRIPTION_JOBS: ResourceRef = { kind: 'arn', contains: ':transcription-job/' };

/**
 * SDK command (or helper) → the IAM actions it needs. Objects are SSE-KMS with the recordings key, so writing
 * needs a data key and reading needs Decrypt; Transcribe reads the media and writes its output with the
 * caller's rights.
 */
const COMMANDS: Record<string, { action: string; resource: ResourceRef }[]> = {
  SendMessage: [], // resolved per queue from sendMessage('<queue>')
  GetParameters: [{ action: 'ssm:GetParameters', resource: { kind: 'ssm' } }],
  GetObject: [
    { action: 's3:GetObject', resource: RECORDING_OBJECTS },
    { action: 'kms:Decrypt', resource: RECORDINGS_KEY },
  ],
  HeadObject: [{ action: 's3:GetObject', resource: RECORDING_OBJECTS }],
  PutObject: [
    { action: 's3:PutObject', resource: RECORDING_OBJECTS },
    { action: 'kms:GenerateDataKey', resource: RECORDINGS_KEY },
  ],
  DeleteObject: [{ action: 's3:DeleteObject', resource: RECORDING_OBJECTS }],
  DeleteObjects: [{ action: 's3:DeleteObject', resource: RECORDING_OBJECTS }],
  ListObjectsV2: [{ action: 's3:ListBucket', resource: { kind: 'logical', id: 'RecordingsBucket' } }],
  GetParameter: [{ action: 'ssm:GetParameter', resource: { kind: 'ssm' } }],
  DeleteTranscriptionJob: [{ action: 'transcribe:DeleteTranscriptionJob', resource: TRANSCRIPTION_JOBS }],
  Upload: [
    { action: 's3:PutObject', resource: RECORDING_OBJECTS },
    { action: 's3:AbortMultipartUpload', resource: RECORDING_OBJECTS },
    { action: 'kms:GenerateDataKey', resource: RECORDINGS_KEY },
  ],
  StartTranscriptionJob: [
    { action: 'transcribe:StartTranscriptionJob', resource: TRANSCRIPTION_JOBS },
    { action: 's3:GetObject', resource: RECORDING_OBJECTS },
    { action: 's3:PutObject', resource: RECORDING_OBJECTS },
    { action: 'kms:GenerateDataKey', resource: RECORDINGS_KEY },
    { action: 'kms:Decrypt', resource: RECORDINGS_KEY },
  ],
  GetTranscriptionJob: [{ action: 'transcribe:GetTranscriptionJob', resource: TRANSCRIPTION_JOBS }],
  PutEvents: [{ action: 'events:PutEvents', resource: { kind: 'logical', id: 'EventBus' } }],
};

/**
 * Calls a function must be able to make whatever its file in this branch does: the relay and the sweeper are
 * specified by their issue (their code lands with them), so the template is held to that now.
 */
export const DECLARED_CALLS: Record<string, AwsCall[]> = {
  followUpRelay: [
    { action: 'sqs:SendMessage', resource: { kind: 'logical', id: 'OutboundSmsQueue' }, from: 'issue' },
    { action: 'sqs:SendMessage', resource: { kind: 'logical', id: 'RecordingsQueue' }, from: 'issue' },
    { action: 'events:PutEvents', resource: { kind: 'logical', id: 'EventBus' }, from: 'issue' },
  ],
  transcriptionSweeper: [
    ...COMMANDS.GetTranscriptionJob!.map((call) => ({ ...call, from: 'issue' })),
    {
      action: 's3:GetObject',
      resource: { kind: 'objects', bucket: 'RecordingsBucket', prefix: 'transcripts/' },
      from: 'issue',
    },
    { action: 'kms:Decrypt', resource: RECORDINGS_KEY, from: 'issue' },
  ],
};

/** A call the bundle contains but the function never makes, and why (reviewed by hand). */
export interface Unreached {
  action: string;
  resource: ResourceRef;
  why: string;
}
const VIA_STORE = 'the recording store is one object with every method; this function uses only';
/**
 * The analysis works per module, so a module's other actions come along. These were each checked against the
 * handler and are left out of the role (least privilege); each must still be found, or the test asks to drop it.
 */
export const UNREACHED: Record<string, Unreached[]> = {
  transcriptWriter: [
    { action: 's3:GetObject', resource: RECORDING_OBJECTS, why: `${VIA_STORE} getText on transcripts/` },
    { action: 's3:DeleteObject', resource: RECORDING_OBJECTS, why: `${VIA_STORE} getText` },
    { action: 's3:PutObject', resource: RECORDING_OBJECTS, why: `${VIA_STORE} getText` },
    { action: 's3:AbortMultipartUpload', resource: RECORDING_OBJECTS, why: `${VIA_STORE} getText` },
    { action: 'kms:GenerateDataKey', resource: RECORDINGS_KEY, why: `${VIA_STORE} getText` },
  ],
  transcriptionSweeper: [
    { action: 's3:GetObject', resource: RECORDING_OBJECTS, why: `${VIA_STORE} getText on transcripts/` },
    { action: 's3:DeleteObject', resource: RECORDING_OBJECTS, why: `${VIA_STORE} getText` },
    { action: 's3:PutObject', resource: RECORDING_OBJECTS, why: `${VIA_STORE} getText` },
    { action: 's3:AbortMultipartUpload', resource: RECORDING_OBJECTS, why: `${VIA_STORE} getText` },
    { action: 'kms:GenerateDataKey', resource: RECORDINGS_KEY, why: `${VIA_STORE} getText` },
  ],
  retentionPurge: [
    { action: 's3:GetObject', resource: RECORDING_OBJECTS, why: `${VIA_STORE} delete` },
    { action: 'kms:Decrypt', resource: RECORDINGS_KEY, why: `${VIA_STORE} delete` },
    { action: 's3:PutObject', resource: RECORDING_OBJECTS, why: `${VIA_STORE} delete` },
    { action: 's3:AbortMultipartUpload', resource: RECORDING_OBJECTS, why: `${VIA_STORE} delete` },
    { action: 'kms:GenerateDataKey', resource: RECORDINGS_KEY, why: `${VIA_STORE} delete` },
  ],
};

/** serverless.yml's functions: name → handler source file. */
export function functionSources(): Map<string, string> {
  const config = yaml.load(readFileSync(join(ROOT, 'serverless.yml'), 'utf8')) as {
    functions: Record<string, { handler: string }>;
  };
  return new Map(
    Object.entries(config.functions).map(([name, fn]) => [
      name,
      `${fn.handler.slice(0, fn.handler.lastIndexOf('.'))}.ts`,
    ]),
  );
}

/**
 * The handler bundled as esbuild bundles it for Lambda, tree-shaken (so a barrel's unused exports drop out),
 * with every package left external: what remains is the code the function can run.
 */
async function reachableCode(entry: string): Promise<string> {
  const result = await build({
    entryPoints: [join(ROOT, entry)],
    absWorkingDir: ROOT,
    bundle: true,
    write: false,
    platform: 'node',
    format: 'esm',
    packages: 'external',
    treeShaking: true,
    logLevel: 'silent',
  });
  return result.outputFiles.map((file) => file.text).join('\n');
}

/** Every AWS call the function's code may make. */
export async function callsOf(entry: string): Promise<AwsCall[]> {
  const code = await reachableCode(entry);
  const calls: AwsCall[] = [];
  for (const match of code.matchAll(/\bsendMessage\(\s*["'](\w+)["']/g)) {
    const queue = QUEUES[match[1] as string];
    if (!queue) throw new Error(`${entry}: sendMessage to unknown queue ${match[1]}`);
    calls.push({
      action: 'sqs:SendMessage',
      resource: { kind: 'logical', id: queue },
      from: `sendMessage("${match[1]}")`,
    });
  }
  const commands = [...code.matchAll(/new\s+(?:[\w$]+\.)?(\w+)Command\(/g)].map((m) => m[1] as string);
  if (/\bnew\s+Upload\(/.test(code)) commands.push('Upload');
  for (const command of new Set(commands)) {
    const mapped = COMMANDS[command];
    if (!mapped) throw new Error(`${entry}: no IAM mapping for ${command} (add it to COMMANDS)`);
    for (const call of mapped) calls.push({ ...call, from: command });
  }
  return calls;
}
