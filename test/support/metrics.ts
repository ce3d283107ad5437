import { onTestFinished, vi } from 'vitest';

interface EmfLine {
  _aws: { CloudWatchMetrics: { Namespace: string; Dimensions: string[][]; Metrics: { Name: string }[] }[] };
  [key: string]: unknown;
}

/**
 * Turns metrics on for the current test and collects the EMF lines the code writes to stdout (as CloudWatch
 * would read them from the function's log); restored when the test ends.
 */
export function captureMetrics(): { lines: EmfLine[]; names: () => string[] } {
  vi.stubEnv('POWERTOOLS_METRICS_DISABLED', 'false');
  const lines: EmfLine[] = [];
  const write = process.stdout.write.bind(process.stdout);
  const spy = vi.spyOn(process.stdout, 'write').mockImplementation(((chunk: unknown, ...rest: never[]) => {
    const text = String(chunk);
    if (text.startsWith('{"_aws"')) {
      lines.push(JSON.parse(text) as EmfLine);
      return true;
    }
    return write(chunk as string, ...rest);
  }) as typeof process.stdout.write);
  onTestFinished(() => {
    spy.mockRestore();
    vi.unstubAllEnvs();
  });
  return { lines, names: () => lines.map((line) => line._aws.CloudWatchMetrics[0]!.Metrics[0]!.Name) };
}
