import { fileTypeFromFile } from 'file-type';

export const UNKNOWN_TYPE = 'application/octet-stream';

/** The file's type read from its bytes (magic numbers); the client's claim is never asked. */
export async function sniffType(path: string): Promise<string> {
  return (await fileTypeFromFile(path))?.mime ?? UNKNOWN_TYPE;
}

/**
 * Types a browser may show in the page: media and PDF, which run no script
 * of ours. Everything else (HTML, SVG, XML, archives, unknown bytes) is
 * served as `application/octet-stream`, `attachment`: downloaded, never rendered.
 */
const INLINE = new Set([
  'image/png',
  'image/jpeg',
  'image/gif',
  'image/webp',
  'image/avif',
  'application/pdf',
  'audio/mpeg',
  'audio/ogg',
  'audio/wav',
  'audio/mp4',
  'video/mp4',
  'video/webm',
]);

export function servedAs(type: string): { contentType: string; inline: boolean } {
  return INLINE.has(type) ? { contentType: type, inline: true } : { contentType: UNKNOWN_TYPE, inline: false };
}
