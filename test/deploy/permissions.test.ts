import { beforeAll, describe, expect, it } from 'vitest';
import { SECRET_NAMES } from '../../lib/config.js';
import {
  type AwsCall,
  callsOf,
  DECLARED_CALLS,
  functionSources,
  type ResourceRef,
  UNREACHED,
} from './code-permissions.js';
import {
  asList,
  type CfnTemplate,
  functionRole,
  isPackaged,
  type Json,
  readPackagedTemplate,
  referencedId,
  resourcesOfType,
  roleStatements,
  type Statement,
} from './packaged.js';

/**
 * `<NAME>_PARAM` names the template sets that lib/config.ts does not resolve yet (the change is under way on
 * another branch); each must leave this list once the configuration resolves it.
 */

const packaged = isPackaged();
const skipReason = packaged ? '' : ' [skipped: .serverless/ is missing; `npm run package` builds it]';

const logicalId = (name: string) => `${name[0]?.toUpperCase()}${name.slice(1)}LambdaFunction`;

function subText(value: Json): string | undefined {
  if (value && typeof value === 'object' && !Array.isArray(value) && typeof value['Fn::Sub'] === 'string')
    return value['Fn::Sub'];
  return typeof value === 'string' ? value : undefined;
}

/** Does one statement's resource cover the resource the code touches? */
function covers(granted: Json, wanted: ResourceRef): boolean {
  switch (wanted.kind) {
    case 'logical':
      return referencedId(granted) === wanted.id;
    case 'objects': {
      const text = subText(granted);
      const base = `\${${wanted.bucket}.Arn}/`;
      if (!text?.startsWith(base)) return false;
      const pattern = text.slice(base.length);
      return pattern === '*' || (pattern.endsWith('*') && wanted.prefix.startsWith(pattern.slice(0, -1)));
    }
    case 'arn':
      return subText(granted)?.includes(wanted.contains) ?? false;
    case 'ssm':
      return subText(granted)?.includes(':parameter') ?? false;
  }
}

function allows(statements: Statement[], call: AwsCall): boolean {
  return statements.some(
    (s) =>
      s.Effect === 'Allow' &&
      asList(s.Action).includes(call.action) &&
      asList(s.Resource).some((resource) => covers(resource, call.resource)),
  );
}

describe(`each function's role allows every AWS call its code may make${skipReason}`, () => {
  let template: CfnTemplate;
  const sources = functionSources();

  beforeAll(() => {
    if (packaged) template = readPackagedTemplate();
  });

  it.skipIf(!packaged)('knows every function of the template', () => {
    const inTemplate = resourcesOfType(template, 'AWS::Lambda::Function').map(([id]) => id);

    expect(inTemplate.sort()).toEqual([...sources.keys()].map(logicalId).sort());
  });

  for (const [name, source] of sources) {
    it.skipIf(!packaged)(`${name} (${source})`, async () => {
      // Prepare
      const derived = await callsOf(source);
      const unreached = UNREACHED[name] ?? [];
      const statements = roleStatements(template, functionRole(template, logicalId(name)));
      const key = (c: { action: string; resource: ResourceRef }) =>
        `${c.action} on ${JSON.stringify(c.resource)}`;
      const skipped = new Set(unreached.map(key));

      // Act
      const calls = [...derived.filter((call) => !skipped.has(key(call))), ...(DECLARED_CALLS[name] ?? [])];
      const denied = calls
        .filter((call) => !allows(statements, call))
        .map((call) => `${key(call)} (from ${call.from})`);
      const stale = unreached.filter((u) => !derived.some((call) => key(call) === key(u))).map(key);

      // Assess
      expect([...new Set(denied)], 'calls the role does not allow').toEqual([]);
      expect(stale, 'UNREACHED entries the code no longer has').toEqual([]);
    });
  }

  it('derives the calls from the code: the ingest worker re-runs follow-ups that queue replies', async () => {
    const calls = await callsOf(sources.get('ingestWorker') as string);

    const queues = calls.filter((c) => c.action === 'sqs:SendMessage').map((c) => JSON.stringify(c.resource));

    // The outage finding: replayed events queue replies and downloads, so the role must send to both.
    expect(new Set(queues)).toEqual(
      new Set(['OutboundSmsQueue', 'RecordingsQueue'].map((id) => JSON.stringify({ kind: 'logical', id }))),
    );
  });
});

describe(`every secret parameter the template names is resolved by the configuration${skipReason}`, () => {
  it.skipIf(!packaged)('maps each <NAME>_PARAM to a name lib/config.ts reads from SSM', () => {
    // Prepare
    const template = readPackagedTemplate();
    const resolved = new Set<string>(SECRET_NAMES);

    // Act
    const named = new Set(
      resourcesOfType(template, 'AWS::Lambda::Function').flatMap(([, fn]) =>
        Object.keys((fn.Properties.Environment as { Variables: Record<string, Json> }).Variables)
          .filter((variable) => variable.endsWith('_PARAM'))
          .map((variable) => variable.slice(0, -'_PARAM'.length)),
      ),
    );
    const unresolved = [...named].filter((name) => !resolved.has(name));

    // Assess
    expect(unresolved).toEqual([]);
    expect(named.has('DATABASE_URL')).toBe(true);
  });
});
