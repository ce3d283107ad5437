/** `pedro-<stage>-recording-<id>`: one job per recording, so a retried start cannot make a second one. */
export function transcriptionJobName(stage: string, recordingId: number): string {
  return `pedro-${stage.replace(/[^0-9A-Za-z._-]/g, '-')}-recording-${recordingId}`;
}

/** The stage and recording id of one of our job names; undefined for anybody else's job. */
export function parseTranscriptionJobName(name: string): { stage: string; recordingId: number } | undefined {
  const match = /^pedro-(.+)-recording-(\d+)$/.exec(name);
  if (!match) return undefined;
  return { stage: match[1] as string, recordingId: Number(match[2]) };
}
