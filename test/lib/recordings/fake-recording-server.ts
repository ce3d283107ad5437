import { once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** How the fake answers one recording: bytes, an error status, or a stream longer than it declares. */
export interface FakeRecording {
  status?: number;
  mp3?: Buffer;
  /** Send the body chunked, without a Content-Length (so only the streamed count can catch a big file). */
  chunked?: boolean;
}

export interface RecordedRequest {
  method: string;
  path: string;
  authorization: string | undefined;
}

export interface FakeRecordingServer {
  origin: string;
  requests: RecordedRequest[];
  /** The URL Twilio's RecordingStatusCallback names for recording `sid`. */
  recordingUrl(sid: string): string;
  serve(sid: string, recording: FakeRecording): void;
  downloadsOf(sid: string): RecordedRequest[];
  deletesOf(sid: string): RecordedRequest[];
  close(): Promise<void>;
}

/** A local stand-in for Twilio's recording media and REST endpoints (`/Recordings/<sid>.mp3|.json`). */
export async function startFakeRecordingServer(accountSid: string): Promise<FakeRecordingServer> {
  const recordings = new Map<string, FakeRecording>();
  const requests: RecordedRequest[] = [];
  const base = `/2010-04-01/Accounts/${accountSid}/Recordings/`;

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const path = req.url ?? '';
    requests.push({ method: req.method ?? '', path, authorization: req.headers.authorization });
    const match = path.startsWith(base) ? /^([^/.]+)\.(mp3|json)$/.exec(path.slice(base.length)) : null;
    const recording = match ? recordings.get(match[1] as string) : undefined;
    if (!match || !recording) {
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"status":404}');
      return;
    }
    if (req.method === 'DELETE' && match[2] === 'json') {
      res.writeHead(204).end();
      return;
    }
    if (recording.status && recording.status !== 200) {
      res
        .writeHead(recording.status, { 'content-type': 'application/json' })
        .end(`{"status":${recording.status}}`);
      return;
    }
    const mp3 = recording.mp3 ?? Buffer.alloc(0);
    if (recording.chunked) {
      res.writeHead(200, { 'content-type': 'audio/mpeg' });
      for (let i = 0; i < mp3.length; i += 16_384) res.write(mp3.subarray(i, i + 16_384));
      res.end();
      return;
    }
    res.writeHead(200, { 'content-type': 'audio/mpeg', 'content-length': mp3.length }).end(mp3);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const of = (sid: string, method: string, ext: string) =>
    requests.filter((r) => r.method === method && r.path === `${base}${sid}.${ext}`);
  return {
    origin,
    requests,
    recordingUrl: (sid) => `${origin}${base}${sid}`,
    serve: (sid, recording) => recordings.set(sid, recording),
    downloadsOf: (sid) => of(sid, 'GET', 'mp3'),
    deletesOf: (sid) => of(sid, 'DELETE', 'json'),
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
