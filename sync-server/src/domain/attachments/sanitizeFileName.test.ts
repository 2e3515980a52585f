import { describe, expect, it } from 'vitest';
import { DEFAULTS } from '@parley/schema';
import { sanitizeFileName } from './sanitizeFileName';

describe('sanitizeFileName', () => {
  it('keeps the last path segment only', () => {
    expect(sanitizeFileName('../../etc/passwd')).toBe('passwd');
    expect(sanitizeFileName('C:\\Windows\\evil.bat')).toBe('evil.bat');
    expect(sanitizeFileName('dir/')).toBe('file');
  });
  it('removes control, bidi and separator characters and leading dots', () => {
    expect(sanitizeFileName('a\r\nb\u0000c.txt')).toBe('abc.txt');
    expect(sanitizeFileName('\u202Egpj.exe')).toBe('gpj.exe');
    expect(sanitizeFileName('x\u2028y.txt')).toBe('xy.txt');
    expect(sanitizeFileName('..')).toBe('file');
    expect(sanitizeFileName('  .env  ')).toBe('env');
    expect(sanitizeFileName('say "hi".txt')).toBe('say _hi_.txt');
    expect(sanitizeFileName(undefined)).toBe('file');
  });
  it('shortens long names and keeps the extension', () => {
    const long = sanitizeFileName(`${'a'.repeat(500)}.pdf`);
    expect([...long]).toHaveLength(DEFAULTS.attachmentNameMaxLength);
    expect(long.endsWith('.pdf')).toBe(true);
  });
});
