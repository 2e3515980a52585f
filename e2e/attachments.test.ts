/**
 * Attachments on a real server (issue 14, item 1; CONTRACT section 4): the
 * upload call (members only, size limit, type from the bytes, names made
 * safe, images measured, stripped of EXIF and given a thumbnail), the GET of
 * a file (members only, stored type, Content-Disposition, nosniff, ranges,
 * signed links), messages that may carry only this conversation's uploads as
 * answered, and files removed once no message refers to them. Bad input gets
 * the contract's error and stores nothing.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appendMessage, conversationDocName, thumbnailUrl } from '@parley/schema';
import { startServer, type TestServer } from './fixtures/server';
import { connectUser, createConversation, waitFor } from './fixtures/clients';
import { fetchFile, upload } from './fixtures/uploads';
import { withDatabase } from './fixtures/database';

const MAX = 1024 * 1024;
let server: TestServer;
let room: string;
let elsewhere: string;
const tokens: Record<string, string> = {};

const png = (width: number, height: number) => sharp({ create: { width, height, channels: 3, background: '#cc3366' } }).png().toBuffer();
const gpsJpeg = () =>
  sharp({ create: { width: 640, height: 480, channels: 3, background: '#3366cc' } })
    .jpeg()
    .withExif({
      IFD0: { Artist: 'EXIFARTISTMARK' },
      IFD3: { GPSLatitudeRef: 'N', GPSLatitude: '51/1 30/1 0/1', GPSLongitudeRef: 'W', GPSLongitude: '0/1 7/1 0/1', GPSMapDatum: 'SECRETDATUMMARK' },
    })
    .toBuffer();
const rows = () => withDatabase(server, (db) => db.prepare('SELECT count(*) FROM attachments').pluck().get() as number, { readonly: true });
const blobFiles = () => {
  const root = join(server.dataDir, 'attachments');
  return readdirSync(root)
    .filter((d) => d !== 'scratch')
    .flatMap((d) => readdirSync(join(root, d)));
};
const scratchFiles = () => readdirSync(join(server.dataDir, 'attachments', 'scratch'));
const send = (user: string, conversationId: string, body: unknown) => server.api(`/api/conversations/${conversationId}/messages`, { token: tokens[user], body });

beforeAll(async () => {
  server = await startServer({ env: { UPLOAD_MAX_BYTES: String(MAX) } });
  for (const user of ['aa', 'ab', 'stranger']) tokens[user] = await server.token(user);
  room = await createConversation(server, 'aa', ['ab']);
  tokens.other = await server.token('other');
  elsewhere = await createConversation(server, 'stranger', ['other']);
}, 60_000);
afterAll(async () => {
  await server?.stop();
});

describe('upload and serve', () => {
  it('stores an image with its size and a thumbnail, and serves it to members with its type', async () => {
    const bytes = await png(800, 400);
    const answer = await upload(server, tokens.ab, room, bytes, 'holiday.png', { claimedType: 'text/html' });
    expect(answer.status).toBe(201);
    expect(answer.body).toEqual({ url: expect.stringMatching(new RegExp(`^/api/conversations/${room}/attachments/[A-Za-z0-9_-]{22}$`)), name: 'holiday.png', type: 'image/png', size: expect.any(Number), width: 800, height: 400 });
    const file = await fetchFile(server, answer.body.url, tokens.aa);
    expect(file.status).toBe(200);
    expect(file.headers.get('content-type')).toBe('image/png');
    expect(file.headers.get('x-content-type-options')).toBe('nosniff');
    expect(file.headers.get('content-disposition')).toBe(`inline; filename="holiday.png"; filename*=UTF-8''holiday.png`);
    expect(file.bytes.length).toBe(answer.body.size);
    expect(await sharp(file.bytes).metadata()).toMatchObject({ width: 800, height: 400, format: 'png' });
    const thumb = await fetchFile(server, thumbnailUrl(answer.body.url), tokens.aa);
    expect(thumb.status).toBe(200);
    expect(thumb.headers.get('content-type')).toBe('image/webp');
    expect(await sharp(thumb.bytes).metadata()).toMatchObject({ width: 320, height: 160, format: 'webp' });
  });

  it('strips EXIF, GPS position included, from a JPEG', async () => {
    const original = await gpsJpeg();
    expect(original.includes('SECRETDATUMMARK')).toBe(true);
    expect((await sharp(original).metadata()).exif).toBeDefined();
    const answer = await upload(server, tokens.aa, room, original, 'IMG_0001.JPG');
    expect(answer.status).toBe(201);
    expect(answer.body).toMatchObject({ type: 'image/jpeg', width: 640, height: 480 });
    for (const path of [answer.body.url, thumbnailUrl(answer.body.url)]) {
      const served = await fetchFile(server, path, tokens.ab);
      expect(served.status).toBe(200);
      expect(served.bytes.includes('SECRETDATUMMARK')).toBe(false);
      expect(served.bytes.includes('EXIFARTISTMARK')).toBe(false);
      expect((await sharp(served.bytes).metadata()).exif).toBeUndefined();
    }
    // Nor is the original kept anywhere on disk.
    for (const name of blobFiles()) {
      expect(readFileSync(join(server.dataDir, 'attachments', name.slice(0, 2), name)).includes('SECRETDATUMMARK')).toBe(false);
    }
  });

  it('types a file by its bytes: HTML named .png is served as a download, never as HTML', async () => {
    const html = Buffer.from('<!doctype html><html><body><script>alert(document.cookie)</script></body></html>');
    const answer = await upload(server, tokens.aa, room, html, 'cute-cat.png', { claimedType: 'image/png' });
    expect(answer.status).toBe(201);
    expect(answer.body).toEqual({ url: expect.any(String), name: 'cute-cat.png', type: 'application/octet-stream', size: html.length });
    const file = await fetchFile(server, answer.body.url, tokens.ab);
    expect(file.status).toBe(200);
    expect(file.headers.get('content-type')).toBe('application/octet-stream');
    expect(file.headers.get('content-disposition')).toMatch(/^attachment; /);
    expect(file.headers.get('x-content-type-options')).toBe('nosniff');
    expect(file.headers.get('content-security-policy')).toContain('sandbox');
    expect(file.bytes.equals(html)).toBe(true);
    expect((await fetchFile(server, thumbnailUrl(answer.body.url), tokens.ab)).status).toBe(404);
    // A PDF is recognised from its magic bytes and shown inline.
    const pdf = await upload(server, tokens.aa, room, Buffer.from('%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n'), 'quote.bin');
    expect(pdf.body.type).toBe('application/pdf');
  });

  it('serves byte ranges', async () => {
    const bytes = Buffer.from(Array.from({ length: 1000 }, (_, i) => i % 251));
    const answer = await upload(server, tokens.aa, room, bytes, 'data.bin');
    expect(answer.status).toBe(201);
    const first = await fetchFile(server, answer.body.url, tokens.ab, { range: 'bytes=0-9' });
    expect(first.status).toBe(206);
    expect(first.headers.get('content-range')).toBe('bytes 0-9/1000');
    expect(first.bytes.equals(bytes.subarray(0, 10))).toBe(true);
    const middle = await fetchFile(server, answer.body.url, tokens.ab, { range: 'bytes=500-' });
    expect(middle.bytes.equals(bytes.subarray(500))).toBe(true);
    const last = await fetchFile(server, answer.body.url, tokens.ab, { range: 'bytes=-5' });
    expect(last.headers.get('content-range')).toBe('bytes 995-999/1000');
    expect(last.bytes.equals(bytes.subarray(995))).toBe(true);
    const outside = await fetchFile(server, answer.body.url, tokens.ab, { range: 'bytes=5000-' });
    expect(outside.status).toBe(416);
    expect(outside.headers.get('content-range')).toBe('bytes */1000');
    const whole = await fetchFile(server, answer.body.url, tokens.ab);
    expect(whole.headers.get('accept-ranges')).toBe('bytes');
    expect(whole.bytes.equals(bytes)).toBe(true);
  });

  it('serves members only: not strangers, not without a token; signed links for <img>', async () => {
    const answer = await upload(server, tokens.aa, room, await png(10, 10), 'x.png');
    expect((await fetchFile(server, answer.body.url, tokens.stranger)).status).toBe(403);
    expect((await fetchFile(server, answer.body.url, null)).status).toBe(401);
    // Another conversation's path to the same id finds nothing.
    expect((await fetchFile(server, answer.body.url.replace(room, elsewhere), tokens.stranger)).status).toBe(404);
    expect((await upload(server, tokens.stranger, room, Buffer.from('hello'), 'x.txt')).status).toBe(403);
    expect((await upload(server, null, room, Buffer.from('hello'), 'x.txt')).status).toBe(401);
    expect((await server.api(`${answer.body.url}/link`, { token: tokens.stranger })).status).toBe(403);

    const link = await server.api(`${answer.body.url}/link`, { token: tokens.ab });
    expect(link.status).toBe(200);
    expect(link.body).toEqual({ url: expect.stringContaining(`${answer.body.url}?`), thumbnailUrl: expect.stringContaining('/thumbnail?'), expiresAt: expect.any(Number) });
    const viaLink = await fetchFile(server, link.body.url, null);
    expect(viaLink.status).toBe(200);
    expect(viaLink.headers.get('content-type')).toBe('image/png');
    expect((await fetchFile(server, link.body.thumbnailUrl, null)).status).toBe(200);
    const forged = link.body.url.replace(/exp=\d+/, `exp=${Date.now() + 10 * 3600_000}`);
    expect((await fetchFile(server, forged, null)).status).toBe(401);
    const otherUser = link.body.url.replace('u=ab', 'u=aa');
    expect((await fetchFile(server, otherUser, null)).status).toBe(401);
    // A link names its file: it opens no other.
    const other = await upload(server, tokens.aa, room, Buffer.from('second file'), 'b.txt');
    expect((await fetchFile(server, other.body.url + link.body.url.slice(link.body.url.indexOf('?')), null)).status).toBe(401);
  });
});

describe('bad uploads store nothing', () => {
  it('refuses oversized files with 413, whole or streamed, and the client gets the answer', async () => {
    const before = { rows: rows(), blobs: blobFiles().length };
    const big = Buffer.alloc(MAX + 1, 7);
    for (const chunked of [false, true]) {
      const answer = await upload(server, tokens.aa, room, big, 'big.bin', { chunked });
      expect(answer.status, `chunked ${chunked}`).toBe(413);
      expect(answer.body.error.code).toBe('payload_too_large');
    }
    const huge = await upload(server, tokens.aa, room, Buffer.alloc(3 * MAX, 1), 'huge.bin');
    expect(huge.status).toBe(413);
    // Exactly the limit is fine.
    const edge = await upload(server, tokens.aa, room, Buffer.alloc(MAX, 9), 'edge.bin');
    expect(edge.status).toBe(201);
    expect(edge.body.size).toBe(MAX);
    expect({ rows: rows(), blobs: blobFiles().length }).toEqual({ rows: before.rows + 1, blobs: before.blobs + 1 });
    expect(scratchFiles()).toEqual([]);
  });

  it('refuses empty files, missing files, non-multipart bodies and broken images', async () => {
    const before = { rows: rows(), blobs: blobFiles().length };
    const empty = await upload(server, tokens.aa, room, new Uint8Array(0), 'empty.txt');
    expect(empty.status).toBe(400);
    expect(empty.body.error.code).toBe('empty_file');
    const json = await server.api(`/api/conversations/${room}/attachments`, { token: tokens.aa, body: { file: 'x' } });
    expect(json.status).toBe(400);
    expect(json.body.error.code).toBe('no_file');
    const noPart = await fetch(`${server.httpUrl}/api/conversations/${room}/attachments`, {
      method: 'POST',
      headers: { authorization: `Bearer ${tokens.aa}`, 'content-type': 'multipart/form-data; boundary=xyz' },
      body: '--xyz\r\nContent-Disposition: form-data; name="note"\r\n\r\nhello\r\n--xyz--\r\n',
    });
    expect(noPart.status).toBe(400);
    expect(((await noPart.json()) as any).error.code).toBe('no_file');
    // PNG magic, then garbage: claims to be an image, is not one.
    const broken = Buffer.concat([(await png(50, 50)).subarray(0, 40), Buffer.alloc(200, 1)]);
    const answer = await upload(server, tokens.aa, room, broken, 'broken.png');
    expect(answer.status).toBe(400);
    expect(answer.body.error.code).toBe('invalid_image');
    expect((await upload(server, tokens.aa, 'no-such-room', Buffer.from('x'), 'x.txt')).status).toBe(404);
    expect({ rows: rows(), blobs: blobFiles().length }).toEqual(before);
    expect(scratchFiles()).toEqual([]);
  });

  it('keeps unknown types as downloads', async () => {
    const answer = await upload(server, tokens.aa, room, Buffer.from([0x00, 0x13, 0x37, 0xfe, 0xed, 0xfa, 0xce]), 'mystery.xyz', { claimedType: 'image/svg+xml' });
    expect(answer.status).toBe(201);
    expect(answer.body.type).toBe('application/octet-stream');
    const svg = await upload(server, tokens.aa, room, Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>'), 'logo.svg', { claimedType: 'image/svg+xml' });
    expect(svg.body.type).toBe('application/octet-stream');
    expect((await fetchFile(server, svg.body.url, tokens.aa)).headers.get('content-disposition')).toMatch(/^attachment/);
  });

  it('makes file names safe: no path, no control or bidi characters, never empty', async () => {
    const cases: Array<[string, string]> = [
      ['../../etc/passwd', 'passwd'],
      ['C:\\Users\\bob\\report.pdf', 'report.pdf'],
      ['bell\u0007tab\tesc\u001b[31m\u0000.txt', 'belltabesc[31m.txt'],
      ['\u202Egpj.exe', 'gpj.exe'],
      ['..', 'file'],
      ['', 'file'],
      ['.hidden', 'hidden'],
      ['a<b>c|d?.txt', 'a_b_c_d_.txt'],
      [`${'é'.repeat(300)}.txt`, `${'é'.repeat(196)}.txt`],
    ];
    for (const [given, kept] of cases) {
      const answer = await upload(server, tokens.aa, room, Buffer.from('content'), given);
      expect(answer.status, JSON.stringify(given)).toBe(201);
      expect(answer.body.name, JSON.stringify(given)).toBe(kept);
      const file = await fetchFile(server, answer.body.url, tokens.aa);
      expect(file.headers.get('content-disposition')).toMatch(/^attachment; filename="[\x20-\x7e]*"; filename\*=UTF-8''[A-Za-z0-9%._~!;-]+$/);
    }
  });
});

describe('messages carry only uploads as answered', () => {
  it('accepts the answer as it is, over REST and the socket, and refuses anything else', async () => {
    const mine = (await upload(server, tokens.aa, room, await png(20, 30), 'p.png')).body;
    const theirs = (await upload(server, tokens.stranger, elsewhere, Buffer.from('other room'), 'o.txt')).body;
    const ok = await send('aa', room, { id: 'with-file', text: 'see attached', attachments: [mine] });
    expect(ok.status).toBe(201);
    expect(ok.body.message.attachments).toEqual([mine]);
    const history = await server.api(`/api/conversations/${room}/messages?limit=1`, { token: tokens.ab });
    expect(history.body.messages[0].attachments).toEqual([mine]);

    const bad: Array<[string, unknown]> = [
      ['a bigger size', { ...mine, size: mine.size + 1 }],
      ['another type', { ...mine, type: 'text/html' }],
      ['another name', { ...mine, name: 'other.png' }],
      ['no width', { url: mine.url, name: mine.name, type: mine.type, size: mine.size, height: mine.height }],
      ["another conversation's upload", theirs],
      ['a url of its own', { ...mine, url: 'https://evil.example/x.png' }],
      ['an unknown upload', { ...mine, url: mine.url.replace(/[^/]{22}$/, 'A'.repeat(22)) }],
    ];
    for (const [what, attachment] of bad) {
      const answer = await send('aa', room, { id: `bad-${Math.random().toString(36).slice(2)}`, text: 'x', attachments: [attachment] });
      expect(answer.status, what).toBe(400);
      expect(answer.body.error.code, what).toBe('invalid_attachment');
    }
    const count = withDatabase(server, (db) => db.prepare("SELECT count(*) FROM messages WHERE id LIKE 'bad-%'").pluck().get(), { readonly: true });
    expect(count).toBe(0);

    const client = await connectUser(server, 'aa');
    try {
      const open = client.open(conversationDocName(room));
      await open.synced;
      appendMessage(open.doc, { id: 'socket-file', author: 'aa', text: 'over the socket', attachments: [mine] });
      await open.acknowledged();
      appendMessage(open.doc, { id: 'socket-forged', author: 'aa', text: 'forged', attachments: [{ ...mine, size: 1 }] });
      await waitFor(() => open.closeReasons.some((r) => r.includes('invalid-message')), 10_000, 'the forged attachment refused');
    } finally {
      client.destroy();
    }
    const stored = (await server.api(`/api/conversations/${room}/messages?limit=5`, { token: tokens.ab })).body.messages.map((m: { id: string }) => m.id);
    expect(stored).toContain('socket-file');
    expect(stored).not.toContain('socket-forged');
  });

  it('removes a file once no message refers to it any more', async () => {
    const shared = (await upload(server, tokens.aa, room, Buffer.from('shared between two messages'), 'shared.txt')).body;
    const single = (await upload(server, tokens.aa, room, Buffer.from('only one message has this'), 'single.txt')).body;
    expect((await send('aa', room, { id: 'ref-1', text: 'one', attachments: [shared, single] })).status).toBe(201);
    expect((await send('aa', room, { id: 'ref-2', text: 'two', attachments: [shared] })).status).toBe(201);
    const blobsBefore = blobFiles().length;
    expect((await server.api(`/api/conversations/${room}/messages/ref-1`, { token: tokens.aa, method: 'DELETE' })).status).toBe(200);
    await waitFor(() => rows() === 0 || withDatabase(server, (db) => db.prepare('SELECT count(*) FROM attachments WHERE url = ?').pluck().get(single.url), { readonly: true }) === 0, 30_000, 'the single file released');
    expect((await fetchFile(server, single.url, tokens.aa)).status).toBe(404);
    expect((await fetchFile(server, shared.url, tokens.aa)).status).toBe(200);
    expect(blobFiles().length).toBe(blobsBefore - 1);
    expect((await server.api(`/api/conversations/${room}/messages/ref-2`, { token: tokens.aa, method: 'DELETE' })).status).toBe(200);
    await waitFor(() => withDatabase(server, (db) => db.prepare('SELECT count(*) FROM attachments WHERE url = ?').pluck().get(shared.url), { readonly: true }) === 0, 30_000, 'the shared file released');
    expect((await fetchFile(server, shared.url, tokens.aa)).status).toBe(404);
    expect(blobFiles().length).toBe(blobsBefore - 2);
  }, 60_000);
});

