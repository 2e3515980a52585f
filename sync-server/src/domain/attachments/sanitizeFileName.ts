import { DEFAULTS } from '@parley/schema';

/** Control characters, and the format characters that reorder or hide text (U+202E makes `gpj.exe` read `exe.jpg`). */
const UNSAFE = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/gu;

/**
 * A file name a client sent, made safe to store, show and put in a
 * `Content-Disposition`: only its last path segment, without control or
 * bidi characters, quotes, or leading dots, at most
 * `attachmentNameMaxLength` characters (the extension kept), never empty.
 */
export function sanitizeFileName(raw: string | undefined): string {
  const lastSegment = (raw ?? '').normalize('NFC').split(/[/\\]/).pop() ?? '';
  const cleaned = lastSegment
    .replace(UNSAFE, '')
    .replace(/["<>:|?*]/g, '_')
    .replace(/\s+/g, ' ')
    .trim()
    .replace(/^[.\s]+/, '')
    .replace(/[.\s]+$/, '');
  const name = cleaned === '' ? 'file' : cleaned;
  return shorten(name, DEFAULTS.attachmentNameMaxLength);
}

function shorten(name: string, max: number): string {
  const chars = [...name];
  if (chars.length <= max) return name;
  const dot = name.lastIndexOf('.');
  const extension = dot > 0 ? [...name.slice(dot)] : [];
  if (extension.length >= max / 2) return chars.slice(0, max).join('');
  return chars.slice(0, max - extension.length).join('') + extension.join('');
}
