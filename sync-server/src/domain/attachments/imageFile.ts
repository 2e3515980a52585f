import sharp from 'sharp';
import { DEFAULTS } from '@parley/schema';

/** Images we decode: their size is read, their metadata dropped and a thumbnail made. */
const REENCODED = new Set(['image/jpeg', 'image/png', 'image/webp']);
const DECODED = new Set([...REENCODED, 'image/gif']);

export const isDecodedImage = (type: string): boolean => DECODED.has(type);

export class InvalidImageError extends Error {}

export interface ImageFacts {
  width: number;
  height: number;
}

const open = (path: string, animated = false) => sharp(path, { limitInputPixels: DEFAULTS.imageMaxPixels, animated, failOn: 'error' });

/**
 * Re-encodes a JPEG, PNG or WebP without its metadata, turned upright by its
 * EXIF orientation first: EXIF (GPS position, camera serial), XMP and IPTC
 * are gone from what is stored and served. GIF carries no EXIF and is kept
 * as uploaded (re-encoding would flatten its animation). Writes `to`.
 */
export async function stripMetadata(path: string, type: string, to: string): Promise<boolean> {
  if (!REENCODED.has(type)) return false;
  try {
    const image = open(path).rotate();
    if (type === 'image/jpeg') await image.jpeg({ quality: 90, mozjpeg: true }).toFile(to);
    else if (type === 'image/png') await image.png().toFile(to);
    else await image.webp({ quality: 90 }).toFile(to);
    return true;
  } catch (error) {
    throw new InvalidImageError(error instanceof Error ? error.message : String(error));
  }
}

/** Width and height as shown (of one frame, for an animation). */
export async function imageFacts(path: string, type: string): Promise<ImageFacts> {
  try {
    const meta = await open(path, type === 'image/gif').metadata();
    const width = meta.width;
    const height = meta.pageHeight ?? meta.height;
    if (!width || !height) throw new Error('no dimensions');
    return { width, height };
  } catch (error) {
    throw new InvalidImageError(error instanceof Error ? error.message : String(error));
  }
}

/** A small WebP of the first frame, at most `thumbnailMaxPx` on its longer side, never enlarged. */
export async function writeThumbnail(path: string, to: string): Promise<void> {
  const side = DEFAULTS.thumbnailMaxPx;
  await open(path).rotate().resize({ width: side, height: side, fit: 'inside', withoutEnlargement: true }).webp({ quality: 75 }).toFile(to);
}
