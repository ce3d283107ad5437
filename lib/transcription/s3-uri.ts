/**
 * Bucket and key of a transcript file URI as Transcribe reports it: `s3://b/k`, path-style
 * `https://s3.<region>.amazonaws.com/b/k` or virtual-hosted `https://b.s3.<region>.amazonaws.com/k`.
 */
export function parseS3Uri(uri: string | undefined): { bucket: string; key: string } | undefined {
  if (!uri) return undefined;
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    return undefined;
  }
  const path = decodeURIComponent(url.pathname.replace(/^\//, ''));
  if (url.protocol === 's3:') return url.hostname && path ? { bucket: url.hostname, key: path } : undefined;
  const hosted = /^(.+)\.s3[.-]/.exec(url.hostname);
  if (hosted?.[1] && path) return { bucket: hosted[1], key: path };
  const slash = path.indexOf('/');
  if (slash <= 0) return undefined;
  return { bucket: path.slice(0, slash), key: path.slice(slash + 1) };
}
