import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';

/** One message of a local queue as kept on disk: enough to resume its retries after a restart. */
export interface StoredMessage {
  id: string;
  body: string;
  /** Epoch milliseconds. */
  sentAt: number;
  receiveCount: number;
  /** When it was first handed to its worker: the retry window counts from here. */
  firstReceivedAt?: number;
  /** Not delivered before this time (DelaySeconds, or the backoff after a failure). */
  availableAt: number;
  /** Set on dead letters. */
  deadAt?: number;
  lastError?: string;
}

const SUFFIX = '.json';
const TEMP = '.tmp';
const STALE_TEMP_MS = 60_000;

/**
 * One file per message under `<directory>/<queue>/`, dead letters under `<directory>/<queue>/dead/`. Every file
 * is written to a temporary name and renamed into place, so a kill mid-write leaves either the old file or the
 * new one, never half of one. New messages are also fsynced (in the background, grouped): the provider was
 * already told "accepted", so they must outlive a crash of the machine, not only of the process.
 */
export class MessageStore {
  private unsynced = new Set<string>();
  private flushing: Promise<void> | undefined;

  constructor(readonly directory: string) {}

  /** Writes a new message; the promise resolves once it is on stable storage (it never rejects). */
  add(queue: string, message: StoredMessage): Promise<void> {
    const path = this.write(this.pendingDir(queue), message);
    this.unsynced.add(path);
    return this.flush();
  }

  /** Rewrites a message's retry state (receive count, next attempt). Not fsynced: losing it only means a retry more. */
  update(queue: string, message: StoredMessage): void {
    this.write(this.pendingDir(queue), message);
  }

  /** Forgets a message its worker handled. */
  remove(queue: string, id: string): void {
    rmSync(join(this.pendingDir(queue), `${id}${SUFFIX}`), { force: true });
  }

  /** Moves a message to the dead letters (written there first, so a crash in between keeps both, never neither). */
  bury(queue: string, message: StoredMessage): Promise<void> {
    const path = this.write(this.deadDir(queue), message);
    this.remove(queue, message.id);
    this.unsynced.add(path);
    return this.flush();
  }

  /** Moves dead letters back to their queue with a fresh receive count; returns the messages moved. */
  redrive(queue: string, ids?: string[]): StoredMessage[] {
    const moved = this.list(this.deadDir(queue)).filter((message) => !ids || ids.includes(message.id));
    for (const message of moved) {
      const revived: StoredMessage = {
        id: message.id,
        body: message.body,
        sentAt: message.sentAt,
        receiveCount: 0,
        availableAt: Date.now(),
      };
      this.write(this.pendingDir(queue), revived);
      rmSync(join(this.deadDir(queue), `${message.id}${SUFFIX}`), { force: true });
    }
    return moved;
  }

  /** Waiting messages, except those `known` says the caller holds already (read only the new files). */
  pending(queue: string, known: (id: string) => boolean = () => false): StoredMessage[] {
    const dead = new Set(this.ids(this.deadDir(queue)));
    // A message found in both places was buried by a process killed before it removed the original.
    return this.list(this.pendingDir(queue), (id) => dead.has(id) || known(id));
  }

  dead(queue: string, known: (id: string) => boolean = () => false): StoredMessage[] {
    return this.list(this.deadDir(queue), known);
  }

  /** The queues that have a folder here. */
  queues(): string[] {
    try {
      return readdirSync(this.directory, { withFileTypes: true })
        .filter((entry) => entry.isDirectory())
        .map((entry) => entry.name)
        .sort();
    } catch {
      return [];
    }
  }

  private pendingDir(queue: string): string {
    return join(this.directory, queue);
  }

  private deadDir(queue: string): string {
    return join(this.directory, queue, 'dead');
  }

  private write(directory: string, message: StoredMessage): string {
    mkdirSync(directory, { recursive: true });
    const path = join(directory, `${message.id}${SUFFIX}`);
    const temp = `${path}.${process.pid}${TEMP}`;
    // Synchronous on purpose: once send() returns, a kill of the process cannot lose the message.
    writeFileSync(temp, JSON.stringify(message));
    renameSync(temp, path);
    return path;
  }

  private names(directory: string): string[] {
    try {
      return readdirSync(directory);
    } catch {
      return [];
    }
  }

  private ids(directory: string): string[] {
    return this.names(directory)
      .filter((name) => name.endsWith(SUFFIX))
      .map((name) => name.slice(0, -SUFFIX.length));
  }

  private list(directory: string, skip: (id: string) => boolean = () => false): StoredMessage[] {
    const messages: StoredMessage[] = [];
    for (const name of this.names(directory)) {
      const path = join(directory, name);
      if (name.endsWith(TEMP)) {
        // Left by a process killed mid-write: its message was never acknowledged, or its older copy is in
        // place. Only old ones go, so a write in progress in another process is left alone.
        if (isOlderThan(path, STALE_TEMP_MS)) rmSync(path, { force: true });
        continue;
      }
      if (!name.endsWith(SUFFIX) || skip(name.slice(0, -SUFFIX.length))) continue;
      try {
        messages.push(JSON.parse(readFileSync(path, 'utf8')) as StoredMessage);
      } catch (error) {
        // Removed meanwhile (handled by the running gateway), or damaged: set aside, never deleted.
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') continue;
        renameSync(path, `${path}.unreadable`);
      }
    }
    return messages.sort((a, b) => a.sentAt - b.sentAt || a.id.localeCompare(b.id));
  }

  /** fsyncs every file written since the last flush, then their folders; one flush at a time, grouped. */
  private flush(): Promise<void> {
    const previous = this.flushing ?? Promise.resolve();
    const next = previous.then(async () => {
      const paths = [...this.unsynced];
      this.unsynced.clear();
      if (paths.length === 0) return;
      try {
        await Promise.all(paths.map((path) => fsyncPath(path)));
        await Promise.all(
          [...new Set(paths.map((path) => path.slice(0, path.lastIndexOf('/'))))].map(fsyncPath),
        );
      } catch {
        // Already renamed into place: it survives a kill of the process; only a power cut could lose it now.
      }
    });
    this.flushing = next;
    return next;
  }
}

function isOlderThan(path: string, ms: number): boolean {
  try {
    return Date.now() - statSync(path).mtimeMs > ms;
  } catch {
    return false;
  }
}

async function fsyncPath(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
