import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type Finding, nagTemplate, readAcknowledgements, sortFindings } from '../../scripts/nag.js';
import { isPackaged, stalePackageReason, TEMPLATE_PATH } from './packaged.js';

const ACKNOWLEDGEMENTS = join(import.meta.dirname, '..', '..', 'nag-acknowledgements.yml');

const finding = (rule: string, resource: string, severity: Finding['severity'] = 'error'): Finding => ({
  rule,
  resource,
  severity,
  description: 'test finding',
});

describe('nag acknowledgements', () => {
  it('acknowledges only the rule and resources an entry names, and reports entries that match nothing', () => {
    // Prepare
    const acks = [{ rule: 'R1', resources: ['A', 'Gone'], reason: 'a reason long enough to read' }];
    const findings = [
      finding('R1', 'A'),
      finding('R1', 'B'),
      finding('R2', 'A'),
      finding('W', 'A', 'warning'),
    ];

    // Act
    const report = sortFindings(findings, acks);

    // Assess
    expect(report.acknowledged.map((f) => `${f.rule}@${f.resource}`)).toEqual(['R1@A']);
    expect(report.errors.map((f) => `${f.rule}@${f.resource}`)).toEqual(['R1@B', 'R2@A']);
    expect(report.warnings).toHaveLength(1);
    expect(report.unused).toEqual([{ rule: 'R1', resource: 'Gone' }]);
  });

  it('keeps the file short: every entry names its resources and gives a reason', () => {
    const acks = readAcknowledgements(ACKNOWLEDGEMENTS);

    expect(acks.length).toBeLessThanOrEqual(12);
    for (const ack of acks) {
      expect(ack.resources.length, ack.rule).toBeGreaterThan(0);
      expect(ack.reason.length, ack.rule).toBeGreaterThan(40);
    }
  });

  it.skipIf(!isPackaged())(
    'finds no unacknowledged error in the packaged template, and no unused entry',
    () => {
      expect(stalePackageReason(), 'run `npm run package` first').toBeUndefined();
      const report = nagTemplate(TEMPLATE_PATH, readAcknowledgements(ACKNOWLEDGEMENTS));

      expect(report.errors.map((f) => `${f.rule} on ${f.resource}`)).toEqual([]);
      expect(report.unused).toEqual([]);
    },
    60_000,
  );
});
